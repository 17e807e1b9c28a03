// Security review: targets whose meaning changes between what the proxy routed on and what Gatehouse judges.
// Each case is a request a proxy can really send on a hostile client's behalf; each must be a 400 (or at least
// never a pass), since the host or path Gatehouse would judge is not the one the app is asked for.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import request from 'supertest';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, forwardAuth, sessionAtLevel } from '../../helpers/flows.js';

describe('security: authz target confusion', () => {
  let t: TestGatehouse;
  let harry: string;

  beforeAll(async () => {
    t = await startGatehouse({ sessions: 'memory', storage: 'embedded' });
    harry = await sessionAtLevel(t, 'harry', 1);
  });
  afterAll(async () => t.close());

  // nginx copies the Host header into X-Original-URL as written, and routes a host it does not know (here
  // `pub%6cic.example.com`) to a wildcard or default server; the URL parser decodes it to public.example.com,
  // whose rule is `bypass`. Whatever app that server fronts is then open to anyone.
  it('a percent-encoded host in X-Original-URL is refused, not decoded into another host', async () => {
    const res = await authRequest(t, 'https://pub%6cic.example.com/');
    assert.equal(res.status, 400, `judged as public.example.com: ${res.status}`);
  });

  it('a host the URL parser rewrites (IDNA-ignored soft hyphen) is refused', async () => {
    const res = await authRequest(t, 'https://pub\u00adlic.example.com/');
    assert.equal(res.status, 400, `judged as public.example.com: ${res.status}`);
  });

  // A request target never carries a fragment (RFC 9112 §3.2); nginx passes `#` through to the app raw.
  it("a '#' in X-Original-URL is refused rather than cutting the path there", async () => {
    const denied = await authRequest(t, 'https://app.example.com/forbidden', { cookie: harry });
    assert.equal(denied.status, 403, 'control: /forbidden is denied');
    const res = await authRequest(t, 'https://app.example.com/x#/../forbidden', { cookie: harry });
    assert.equal(res.status, 400, `judged as /x: ${res.status}`);
  });

  it("a '#' in X-Forwarded-Uri is refused", async () => {
    const res = await forwardAuth(t, 'https://app.example.com/')
      .set('X-Forwarded-Uri', '/x#/../forbidden')
      .set('Cookie', harry);
    assert.equal(res.status, 400, `judged as /x: ${res.status}`);
  });

  // SPEC §4 has /api/verify read X-Original-URL before X-Forwarded-*. Traefik's forwardAuth (the Authelia 4.37
  // configuration SPEC promises to keep working points it at /api/verify) sets X-Forwarded-* itself but passes
  // every other client header through, so a client-chosen X-Original-URL decides.
  it('/api/verify does not let X-Original-URL contradict the X-Forwarded-* the proxy set', async () => {
    const res = await request(t.url)
      .get('/api/verify?rd=https://auth.example.com/')
      .set('X-Forwarded-Method', 'GET')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'secure.example.com')
      .set('X-Forwarded-Uri', '/vault')
      .set('X-Original-URL', 'https://public.example.com/');
    assert.notEqual(res.status, 200, 'an anonymous client passed the two-factor app by sending X-Original-URL');
    // The legacy endpoint answers a request it cannot use with 401 and no Location, as Authelia's does.
    assert.equal(res.status, 401);
    assert.equal(res.headers.location, undefined);
  });
});
