// The frame every portal page shares: head, header with the logo, a centred card.
// Pages are served under a CSP without 'unsafe-inline', so styles and scripts come only from /static/.
import { html, type SafeHtml } from '../src/text/html.js';

/** URL path the static assets (views/assets/) are served under. */
const STATIC_PATH = '/static';

export interface DocumentParts {
  /** Page name; the document title becomes "<title> · Gatehouse". */
  title: string;
  /** The card's content. */
  card: SafeHtml;
  /** Module scripts under STATIC_PATH, by file name (e.g. 'sign-in.js'). */
  scripts?: readonly string[];
}

export function renderDocument({ title, card, scripts = [] }: DocumentParts): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<title>${title} · Gatehouse</title>
<link rel="icon" href="${STATIC_PATH}/logo.svg" type="image/svg+xml">
<link rel="stylesheet" href="${STATIC_PATH}/gatehouse.css">
${scripts.map((name) => html`<script type="module" src="${STATIC_PATH}/${name}"></script>\n`)}</head>
<body>
<header class="brand">
<img class="brand-logo" src="${STATIC_PATH}/logo.svg" alt="" width="32" height="32">
<span class="brand-name">Gatehouse</span>
</header>
<main class="card">
${card}
</main>
</body>
</html>
`;
  return page.toString();
}
