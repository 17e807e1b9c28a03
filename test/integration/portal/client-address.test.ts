// Issue 7 (item 3): the portal finds the client address by the authz endpoints' rule. Once `server.trusted_proxies`
// names the proxies, a client that reaches Gatehouse directly cannot choose its address with X-Forwarded-For; a
// garbled header makes the address unknown, never the proxy's own (which `regulation.modes: [ip]` would then ban).
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { firstFactor } from '../../helpers/flows.js';

async function loggedAddress(
  t: TestGatehouse,
  username: string,
  forwardedFor: string | undefined,
): Promise<string | undefined> {
  const req = firstFactor(t, { username, password: 'wrong' });
  if (forwardedFor !== undefined) req.set('X-Forwarded-For', forwardedFor);
  assert.equal((await req).status, 401);
  const [attempt] = await t.gatehouse.adapters.storage.latestAuthenticationAttempts({
    username,
    since: new Date(0),
    limit: 1,
  });
  return attempt?.remoteIp;
}

describe('portal client address: server.trusted_proxies', () => {
  let direct: TestGatehouse;
  let behindProxy: TestGatehouse;
  beforeAll(async () => {
    // The test client connects from 127.0.0.1: untrusted in the first, the trusted proxy in the second.
    direct = await startGatehouse({ config: { server: { trusted_proxies: ['10.9.9.9'] } } });
    behindProxy = await startGatehouse({ config: { server: { trusted_proxies: ['127.0.0.1'] } } });
  });
  afterAll(async () => Promise.all([direct.close(), behindProxy.close()]));

  it('a client that is not a trusted proxy is known by its own address, whatever X-Forwarded-For says', async () => {
    assert.equal(await loggedAddress(direct, 'john', '10.0.0.5'), '127.0.0.1');
  });

  it("a trusted proxy's X-Forwarded-For names the client: the rightmost entry that is not a trusted proxy", async () => {
    assert.equal(await loggedAddress(behindProxy, 'john', '203.0.113.7, 198.51.100.2'), '198.51.100.2');
    assert.equal(await loggedAddress(behindProxy, 'harry', '203.0.113.7'), '203.0.113.7');
  });

  it("a garbled X-Forwarded-For from a trusted proxy is an unknown address, never the proxy's own", async () => {
    assert.equal(await loggedAddress(behindProxy, 'john', 'not-an-address'), 'unknown');
    assert.equal(await loggedAddress(behindProxy, 'harry', ''), 'unknown');
  });
});
