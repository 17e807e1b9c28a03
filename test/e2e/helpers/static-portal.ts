// Rendered portal views served to Chromium under the portal's own CSP, with the real static files and scripts,
// and no Gatehouse behind them: layout, focus and script-loading checks need only the page and its assets.
// The API answers come from the test (`api`), so a page's script can be driven into any state.
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Route } from 'playwright-core';
import { CSP } from '../../../src/http/security-headers.js';

export const ORIGIN = 'https://auth.example.com';

// dist/test/e2e/helpers/ -> repository root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const STATIC = join(root, 'views', 'assets');
const VENDOR = dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser')));

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

export interface StaticPortalOptions {
  /** The document for each page path ('/', '/settings'…). */
  pages: Record<string, string>;
  /** Answers for /api/ calls: status and body; unknown calls get 404. */
  api?: (method: string, path: string, body: unknown) => { status: number; body: unknown } | undefined;
  /** Holds a static file back until the returned promise resolves (to see a page before its scripts run). */
  delay?: (file: string) => Promise<void> | undefined;
}

function fileUnder(base: string, relative: string): string | undefined {
  const file = normalize(join(base, relative));
  return file.startsWith(base) ? file : undefined;
}

export async function serveStaticPortal(context: BrowserContext, options: StaticPortalOptions): Promise<void> {
  await context.route(`${ORIGIN}/**`, async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    const headers = { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' };
    if (url.pathname.startsWith('/static/')) {
      const relative = url.pathname.slice('/static/'.length);
      const file = relative.startsWith('vendor/simplewebauthn/')
        ? fileUnder(VENDOR, relative.slice('vendor/simplewebauthn/'.length))
        : fileUnder(STATIC, relative);
      await options.delay?.(relative);
      try {
        const body = readFileSync(file ?? '/nonexistent');
        return await route.fulfill({
          status: 200,
          headers: {
            ...headers,
            'Content-Type': TYPES[file!.slice(file!.lastIndexOf('.'))] ?? 'application/octet-stream',
          },
          body,
        });
      } catch {
        return await route.fulfill({ status: 404, headers, body: 'not found' });
      }
    }
    if (url.pathname.startsWith('/api/')) {
      const raw = request.postData();
      const answer = options.api?.(request.method(), url.pathname, raw ? JSON.parse(raw) : undefined) ?? {
        status: 404,
        body: { status: 'KO', message: 'Not found.' },
      };
      return route.fulfill({
        status: answer.status,
        headers,
        contentType: 'application/json',
        body: JSON.stringify(answer.body),
      });
    }
    const page = options.pages[url.pathname];
    if (request.method() !== 'GET') {
      // What a native form post would show: the test asserts it never happens.
      return route.fulfill({
        status: 200,
        headers,
        contentType: 'application/json',
        body: '{"status":"KO","message":"native post"}',
      });
    }
    return route.fulfill({
      status: page ? 200 : 404,
      headers,
      contentType: 'text/html; charset=utf-8',
      body: page ?? 'not found',
    });
  });
}
