// "Your sessions": every live session of the signed-in user (browser and system, where it signed in from, when,
// the last activity, its level), each with "Sign out", and "Sign out everywhere else". Sessions are named by their
// opaque handle only (session/crypto.ts SessionHandles); the page's script calls /api/sessions/*.
import { html, type SafeHtml } from '../src/text/html.js';
import { renderDocument } from './layout.js';
import { icon } from './icons.js';
import { dateTime, statusRegion, type SignedInUser } from './security-keys.js';

/** One session as the page shows it. */
export interface SessionView {
  handle: string;
  browser?: string;
  os?: string;
  address?: string;
  createdAt: Date;
  lastActivity: Date;
  level: 1 | 2;
  rememberMe: boolean;
  current: boolean;
}

export interface SessionsPage extends SignedInUser {
  sessions: readonly SessionView[];
}

const TILE = icon('shield', 'key-tile-icon');

/** What the level means to a person. */
export function levelLabel(level: 1 | 2): string {
  return level === 2 ? 'two factors' : 'one factor';
}

function deviceLabel(s: Pick<SessionView, 'browser' | 'os'>): string {
  if (s.browser === undefined && s.os === undefined) return 'Unknown device';
  return `${s.browser ?? 'Unknown browser'} on ${s.os ?? 'unknown system'}`;
}

function sessionItem(s: SessionView): SafeHtml {
  const id = `session-${s.handle}`;
  return html`<li class="key" id="${id}" data-handle="${s.handle}"${s.current && html` data-current`}>
<div class="key-row">
<span class="key-tile">${TILE}</span>
<div class="key-text">
<p class="key-title"><span class="key-name" id="${id}-name">${deviceLabel(s)}</span>${s.current && html` <span class="tag">This device</span>`}${s.rememberMe && html` <span class="tag">Remembered</span>`}</p>
<p class="key-meta">
<span class="key-model">${s.address ?? 'unknown address'} · ${levelLabel(s.level)}</span>
<span>Signed in ${dateTime(s.createdAt, 'recent')} · last seen ${dateTime(s.lastActivity, 'recent')}</span>
</p>
</div>
<div class="key-actions">
${
  s.current
    ? html`<a class="button small secondary" href="/logout">Sign out</a>`
    : html`<button type="button" class="button small secondary danger" data-action="end" aria-describedby="${id}-name" disabled data-needs-script>Sign out</button>`
}
</div>
</div>
</li>
`;
}

export function renderSessions(p: SessionsPage): string {
  const others = p.sessions.filter((s) => !s.current).length;
  const card = html`
<div class="settings">
<h1>Your sessions</h1>
<p class="lead">Signed in as <strong>${p.displayName}</strong> (${p.username}). These browsers are signed in to your account. Sign out any you do not recognise.</p>
${statusRegion('sessions-status')}
<ul class="key-list" id="session-list">
${p.sessions.map(sessionItem)}
</ul>
<div class="actions">
<button type="button" id="end-others" class="button secondary danger" disabled data-needs-script${others === 0 && html` hidden`}>Sign out everywhere else</button>
<a class="button secondary" href="/settings">Security keys</a>
</div>
<p class="note"><a href="/logout">Sign out</a></p>
<noscript><p class="callout error">Signing out other sessions needs JavaScript. Turn it on for this site, then reload the page.</p></noscript>
</div>`;
  return renderDocument({ title: 'Your sessions', card, scripts: ['sessions.js'] });
}
