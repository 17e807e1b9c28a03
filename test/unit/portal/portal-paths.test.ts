// Where an emailed confirm-only link returns (src/web/portal-paths.ts): a path on the portal, never elsewhere.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { portalPath } from '../../../src/web/portal-paths.js';

describe('portalPath: only a path on the portal itself is a return page', () => {
  const kept: Array<[string, string]> = [
    ['/settings', '/settings'],
    ['/settings?resume=rename&key=3&name=Blue%20key', '/settings?resume=rename&key=3&name=Blue%20key'],
    ['/a/../settings', '/settings'],
    ['/settings#top', '/settings'],
  ];
  for (const [value, expected] of kept)
    it(`keeps ${value} as ${expected}`, () => assert.equal(portalPath(value), expected));

  const refused: unknown[] = [
    'https://evil.example.net/',
    '//evil.example.net/',
    '/\\evil.example.net',
    '\\\\evil',
    'settings',
    'javascript:alert(1)',
    '/api/identity/start',
    '/x\ny',
    '/x\u0000',
    '',
    `/${'a'.repeat(300)}`,
    42,
    undefined,
    ['/settings'],
  ];
  for (const value of refused) it(`refuses ${JSON.stringify(value)}`, () => assert.equal(portalPath(value), undefined));
});
