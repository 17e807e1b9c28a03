// Issue 4, item 3: the real nginx (Debian's package) with nginx/example-site.conf and the snippets it includes, in
// front of Gatehouse (Redis sessions, PostgreSQL storage) and an app that echoes what it receives.
import { describeProxy } from '../helpers/proxy-scenarios.js';
import { startNginx } from '../helpers/proxies.js';

describeProxy({
  name: 'nginx',
  start: startNginx,
  // auth_request: Gatehouse always answers 401 with the portal in Location; the snippet turns it into a 302.
  signInStatus: { browserGet: 302, browserPost: 302, apiClient: 302 },
  // auth_request turns an unreachable or failing Gatehouse into a 500.
  gatehouseDownStatus: 500,
  basicCredentials: 'checked',
});
