// Browser and operating system from a User-Agent header, for the user's list of sessions: a few patterns in a fixed
// order, no dependency. The answer is always one of our own labels (a known name and a version number), never text
// copied from the header, so what is stored and shown cannot carry markup or log noise.

export interface DeviceLabels {
  browser: string;
  os: string;
}

export const UNKNOWN_BROWSER = 'Unknown browser';
export const UNKNOWN_OS = 'Unknown system';

/** Longer headers are not parsed (real ones are a few hundred characters); they get the unknown labels. */
const MAX_LENGTH = 1024;

/**
 * Order matters: Chromium-based browsers also say "Chrome" and "Safari", Chrome says "Safari", and so on. The first
 * pattern that matches names the browser; its first group, when any, is the major version.
 */
const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/\bEdg(?:e|A|iOS)?\/(\d{1,4})/, 'Edge'],
  [/\b(?:OPR|OPiOS)\/(\d{1,4})/, 'Opera'],
  [/\bSamsungBrowser\/(\d{1,4})/, 'Samsung Internet'],
  [/\bVivaldi\/(\d{1,4})/, 'Vivaldi'],
  [/\bYaBrowser\/(\d{1,4})/, 'Yandex Browser'],
  [/\bHeadlessChrome\/(\d{1,4})/, 'Headless Chrome'],
  [/\b(?:Firefox|FxiOS)\/(\d{1,4})/, 'Firefox'],
  [/\bCriOS\/(\d{1,4})/, 'Chrome'],
  [/\bChromium\/(\d{1,4})/, 'Chromium'],
  [/\bChrome\/(\d{1,4})/, 'Chrome'],
  [/\bVersion\/(\d{1,4})(?:\.\d+)*(?: Mobile\/\w+)? Safari\//, 'Safari'],
  [/\bcurl\/(\d{1,4})/, 'curl'],
  [/\bWget\/(\d{1,4})/, 'Wget'],
];

const WINDOWS_NT: Record<string, string> = {
  '10.0': 'Windows 10/11',
  '6.3': 'Windows 8.1',
  '6.2': 'Windows 8',
  '6.1': 'Windows 7',
};

function operatingSystem(ua: string): string {
  const windows = /\bWindows NT (\d+\.\d+)/.exec(ua);
  if (windows) return WINDOWS_NT[windows[1]!] ?? 'Windows';
  if (/\bWindows\b/.test(ua)) return 'Windows';
  const android = /\bAndroid (\d{1,4})/.exec(ua);
  if (android) return `Android ${android[1]}`;
  if (/\bAndroid\b/.test(ua)) return 'Android';
  const ios = /\b(iPhone|iPad|iPod)\b.*?\bOS (\d{1,3})_/.exec(ua);
  if (ios) return `${ios[1] === 'iPad' ? 'iPadOS' : 'iOS'} ${ios[2]}`;
  if (/\b(?:iPhone|iPad|iPod)\b/.test(ua)) return 'iOS';
  if (/\bCrOS\b/.test(ua)) return 'ChromeOS';
  const mac = /\bMac OS X (\d{1,3})[._](\d{1,3})/.exec(ua);
  if (mac) return mac[1] === '10' ? `macOS 10.${mac[2]}` : `macOS ${mac[1]}`;
  if (/\bMacintosh\b/.test(ua)) return 'macOS';
  if (/\bFreeBSD\b/.test(ua)) return 'FreeBSD';
  if (/\bOpenBSD\b/.test(ua)) return 'OpenBSD';
  if (/\b(?:Linux|X11|Ubuntu|Fedora)\b/.test(ua)) return 'Linux';
  return UNKNOWN_OS;
}

function browser(ua: string): string {
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(ua);
    if (match) return match[1] === undefined ? name : `${name} ${match[1]}`;
  }
  return UNKNOWN_BROWSER;
}

/** The labels for a User-Agent header (absent, empty or oversized: unknown). */
export function describeUserAgent(header: string | undefined): DeviceLabels {
  if (header === undefined || header === '' || header.length > MAX_LENGTH) {
    return { browser: UNKNOWN_BROWSER, os: UNKNOWN_OS };
  }
  return { browser: browser(header), os: operatingSystem(header) };
}
