// Decorative line icons, drawn inline so they follow the text colour (currentColor) in both themes. Every shape is
// defined once here, whichever pages draw it and at whatever size (the class).
import { html, type SafeHtml } from '../src/text/html.js';

const SHAPES = {
  key: html`<circle cx="8" cy="15" r="4"/><path d="M10.8 12.2 20 3M16.5 6.5l2.5 2.5M14 9l2 2"/>`,
  check: html`<circle cx="12" cy="12" r="9"/><path d="m8 12.5 2.7 2.7L16.2 9.6"/>`,
  info: html`<circle cx="12" cy="12" r="9"/><path d="M12 11v5.5M12 7.6v.1"/>`,
  error: html`<path d="M10.3 4.1 2.6 17.5A2 2 0 0 0 4.3 20.5h15.4a2 2 0 0 0 1.7-3L13.7 4.1a2 2 0 0 0-3.4 0Z"/><path d="M12 9.5v4.5M12 17.2v.1"/>`,
  shield: html`<path d="M12 3 5 6v5.5c0 4.4 3 8.2 7 9.5 4-1.3 7-5.1 7-9.5V6Z"/><path d="m9 12 2.2 2.2L15.5 10"/>`,
  plus: html`<path d="M12 5v14M5 12h14"/>`,
  mail: html`<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m4 7 8 6 8-6"/>`,
};

export function icon(shape: keyof typeof SHAPES, className = 'icon'): SafeHtml {
  return html`<svg class="${className}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${SHAPES[shape]}</svg>`;
}
