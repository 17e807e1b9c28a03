// The pages import @simplewebauthn/browser by the URL Gatehouse serves it at (/static/vendor/simplewebauthn/, see
// src/http/portal-app.ts): tsconfig.browser.json's rootDirs lays this folder over views/assets/ so that the type
// checker finds the package's own types behind that relative path.
export * from '@simplewebauthn/browser';
