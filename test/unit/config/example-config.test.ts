// Issue 8: the shipped configuration.yml works exactly as its comments say: the quick start at
// http://localhost:9091 (README), apps behind a local proxy under a cookie domain browsers accept for their
// subdomains (home.localhost, not the bare localhost), and admin.home.localhost for admins only.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';
import { loadConfig } from '../../../src/config/index.js';
import { cookieForTarget, findCookieForHost } from '../../../src/config/cookies.js';
import { compileAccessControl } from '../../../src/authz/rules.js';

const EXAMPLE = join(packageRoot, 'configuration.yml');
const loaded = loadConfig({ files: [EXAMPLE], env: {} });
const rules = compileAccessControl(loaded.config.access_control, loaded.config.definitions);
const JOHN = { username: 'john', groups: ['admins', 'dev'] }; // users_database.yml
const HARRY = { username: 'harry', groups: ['dev'] };

const decide = (url: string, subject?: { username: string; groups: string[] }) =>
  rules.evaluate({ url: new URL(url), method: 'GET', ip: '127.0.0.1', ...(subject ? { subject } : {}) }).policy;

describe('the shipped configuration.yml', () => {
  it('is valid, and warns only about the secrets it generates (no shadowed rule)', () => {
    assert.deepEqual(
      loaded.warnings.filter(
        (warning) => !/^(session\.secret|identity_validation\.jwt_secret) is not set/.test(warning),
      ),
      [],
    );
  });

  it('the README quick start: the portal at http://localhost:9091', () => {
    assert.deepEqual(loaded.config.server.address, { host: '127.0.0.1', port: 9091 });
    assert.ok(
      loaded.cookies.some(
        (cookie) => cookie.domain === 'localhost' && cookie.portalUrl.href === 'http://localhost:9091/',
      ),
    );
  });

  it('a protected app such as http://app.home.localhost is under a cookie domain browsers send to its subdomains', () => {
    const cookie = cookieForTarget(loaded.cookies, new URL('http://app.home.localhost/'));
    assert.ok(!('error' in cookie), JSON.stringify(cookie));
    // Browsers refuse Domain=localhost (a top-level name); a two-label domain such as home.localhost is accepted.
    assert.equal(cookie.domain, 'home.localhost');
    assert.equal(cookie.portalUrl.href, 'http://auth.home.localhost:9091/');
    assert.notEqual(
      cookie.name,
      findCookieForHost(loaded.cookies, 'localhost')?.name,
      'a nested cookie domain has its own cookie name',
    );
  });

  it('no rule names a host under the bare localhost cookie domain only (its cookie never reaches a subdomain)', () => {
    for (const rule of loaded.config.access_control.rules) {
      for (const domain of rule.domain ?? [])
        assert.ok(domain.endsWith('.home.localhost') || domain === 'home.localhost', domain);
    }
  });

  it('admin.home.localhost is for admins (two_factor), denied to every other user; other apps need one factor; public is open', () => {
    assert.equal(decide('http://admin.home.localhost/', JOHN), 'two_factor');
    assert.equal(decide('http://admin.home.localhost/', HARRY), 'deny');
    assert.equal(decide('http://app.home.localhost/', HARRY), 'one_factor');
    assert.equal(decide('http://public.home.localhost/'), 'bypass');
  });
});
