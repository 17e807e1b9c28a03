// Issue 4, item 3: the real Caddy (Debian's package) with caddy/Caddyfile in front of Gatehouse (Redis sessions,
// PostgreSQL storage) and an app that echoes what it receives. Caddy's forward_auth speaks the protocol Traefik's
// forwardAuth speaks, so it also stands in for Traefik, which Debian does not package.
import { describeProxy } from '../helpers/proxy-scenarios.js';
import { startCaddy } from '../helpers/proxies.js';

describeProxy({
  name: 'caddy',
  start: startCaddy,
  // forward-auth (SPEC §4): 302 for GET, 303 for other methods, 401 with Location for clients that are not browsers.
  signInStatus: { browserGet: 302, browserPost: 303, apiClient: 401 },
  // reverse_proxy could not reach the auth server.
  gatehouseDownStatus: 502,
  // Caddy drops Proxy-Authorization before forward_auth asks Gatehouse: API clients must use a session there.
  basicCredentials: 'dropped',
});
