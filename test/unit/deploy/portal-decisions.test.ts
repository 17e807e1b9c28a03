// Issue 7, item 8: no shipped proxy file publishes the decision endpoints on the portal's public site. nginx and
// Caddy are run for real (test/e2e/proxies, "does not answer the decision endpoints on the portal's public site");
// Traefik and ingress-nginx cannot run here, so their files are read and routed the way those proxies route:
// Traefik's rule language (Host, Path, PathPrefix, !, &&, ||, parentheses; the longest rule wins unless a priority
// is set) and Kubernetes' Ingress paths (Exact, Prefix by whole segments, the longest match wins for a host).
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { readRepoFile, yamlDocuments } from './deploy-files.js';

type Data = Record<string, unknown>;

/** What Gatehouse answers as a decision (src/http/server.ts routes exactly these raw paths), and neighbours. */
const DECISION_PATHS = [
  '/api/authz/auth-request',
  '/api/authz/forward-auth',
  '/api/verify',
  '/api/authz',
  '/api/authz/',
  '/api/verify/',
];
/** The portal itself must stay reachable. */
const PORTAL_PATHS = ['/', '/api/health', '/api/firstfactor', '/api/state', '/static/app.js'];

// ---- Traefik rules ------------------------------------------------------------------------------------------------

interface Request {
  host: string;
  path: string;
}
type Matcher = (request: Request) => boolean;

/** A parser for the part of Traefik's rule language the shipped files use; anything else fails the test loudly. */
function parseTraefikRule(rule: string): Matcher {
  const tokens = rule.match(/&&|\|\||!|\(|\)|,|`[^`]*`|[A-Za-z]+|\S/g) ?? [];
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw new Error(`rule ${rule}: expected ${expected ?? 'more'} at ${token}`);
    return token;
  };
  const or = (): Matcher => {
    const parts = [and()];
    while (peek() === '||') {
      take();
      parts.push(and());
    }
    return (r) => parts.some((p) => p(r));
  };
  const and = (): Matcher => {
    const parts = [unary()];
    while (peek() === '&&') {
      take();
      parts.push(unary());
    }
    return (r) => parts.every((p) => p(r));
  };
  const unary = (): Matcher => {
    if (peek() === '!') {
      take();
      const inner = unary();
      return (r) => !inner(r);
    }
    if (peek() === '(') {
      take();
      const inner = or();
      take(')');
      return inner;
    }
    const name = take();
    take('(');
    const values = [take().replace(/^`|`$/g, '')];
    while (peek() === ',') {
      take();
      values.push(take().replace(/^`|`$/g, ''));
    }
    take(')');
    switch (name) {
      case 'Host':
        return (r) => values.some((v) => v.toLowerCase() === r.host.toLowerCase());
      case 'Path':
        return (r) => values.includes(r.path);
      case 'PathPrefix':
        return (r) => values.some((v) => r.path.startsWith(v));
      default:
        throw new Error(`rule ${rule}: matcher ${name} is not understood by this test`);
    }
  };
  const matcher = or();
  if (at !== tokens.length) throw new Error(`rule ${rule}: trailing ${tokens.slice(at).join(' ')}`);
  return matcher;
}

interface TraefikRouter {
  name: string;
  rule: string;
  priority?: number;
  service: string;
}

/** The service Traefik sends `request` to, or undefined (Traefik's 404). */
function traefikRoute(routers: readonly TraefikRouter[], request: Request): string | undefined {
  const matching = routers.filter((router) => parseTraefikRule(router.rule)(request));
  matching.sort((a, b) => (b.priority ?? b.rule.length) - (a.priority ?? a.rule.length));
  return matching[0]?.service;
}

/** Routers declared by Docker labels: a router on a container goes to that container's service. */
function routersFromLabels(containers: Data): TraefikRouter[] {
  const routers: TraefikRouter[] = [];
  for (const [container, definition] of Object.entries(containers)) {
    const labels = ((definition as Data).labels ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(labels)) {
      const match = /^traefik\.http\.routers\.([^.]+)\.rule$/.exec(key);
      if (!match) continue;
      const priority = labels[`traefik.http.routers.${match[1]}.priority`];
      routers.push({
        name: match[1]!,
        rule: value,
        service: container,
        ...(priority ? { priority: Number(priority) } : {}),
      });
    }
  }
  return routers;
}

function assertPortalWithoutDecisions(
  routers: readonly TraefikRouter[],
  portalHost: string,
  gatehouseService: string,
): void {
  for (const path of PORTAL_PATHS) {
    assert.equal(
      traefikRoute(routers, { host: portalHost, path }),
      gatehouseService,
      `${portalHost}${path} reaches the portal`,
    );
  }
  for (const path of DECISION_PATHS) {
    assert.notEqual(
      traefikRoute(routers, { host: portalHost, path }),
      gatehouseService,
      `${portalHost}${path} must not reach Gatehouse`,
    );
  }
}

describe('the rule parser of this test reads Traefik rules as Traefik does', () => {
  it('negation, conjunction, disjunction and parentheses', () => {
    const rule = parseTraefikRule('Host(`a.example.com`) && !(PathPrefix(`/x`) || Path(`/y`))');
    assert.equal(rule({ host: 'A.example.com', path: '/z' }), true);
    assert.equal(rule({ host: 'a.example.com', path: '/x/1' }), false);
    assert.equal(rule({ host: 'a.example.com', path: '/y' }), false);
    assert.equal(rule({ host: 'b.example.com', path: '/z' }), false);
    assert.throws(() => parseTraefikRule('HostRegexp(`.*`)'));
  });
});

describe("Traefik: the portal's router leaves out the decision endpoints", () => {
  it('traefik/routers.yml', () => {
    const routers = Object.entries(
      (yamlDocuments('traefik/routers.yml')[0] as { http: { routers: Record<string, Data> } }).http.routers,
    ).map(([name, r]) => ({
      name,
      rule: String(r.rule),
      service: String(r.service),
      ...(r.priority !== undefined ? { priority: Number(r.priority) } : {}),
    }));
    assertPortalWithoutDecisions(routers, 'auth.example.com', 'gatehouse');
    assert.equal(
      traefikRoute(routers, { host: 'app.example.com', path: '/api/verify' }),
      'app',
      'an app keeps its own paths',
    );
  });

  it('traefik/docker-labels.md', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(readRepoFile('traefik/docker-labels.md'))![1]!;
    const routers = routersFromLabels((parseYaml(block) as { services: Data }).services);
    assertPortalWithoutDecisions(routers, 'auth.example.com', 'gatehouse');
  });

  it('deploy/docker-compose.yml labels', () => {
    const routers = routersFromLabels((yamlDocuments('deploy/docker-compose.yml')[0] as { services: Data }).services);
    assertPortalWithoutDecisions(routers, 'auth.traefik.localhost', 'gatehouse');
  });
});

// ---- Kubernetes Ingress (ingress-nginx) ----------------------------------------------------------------------------

interface IngressPath {
  ingress: Data;
  path: string;
  pathType: string;
  service: string;
}

function ingressPaths(host: string): IngressPath[] {
  const found: IngressPath[] = [];
  for (const doc of yamlDocuments('deploy/kubernetes/ingress.yaml') as Data[]) {
    if (doc.kind !== 'Ingress') continue;
    for (const rule of ((doc.spec as Data).rules as Data[]) ?? []) {
      if (rule.host !== host) continue;
      for (const p of ((rule.http as Data).paths as Data[]) ?? []) {
        found.push({
          ingress: doc,
          path: String(p.path),
          pathType: String(p.pathType),
          service: String(((p.backend as Data).service as Data).name),
        });
      }
    }
  }
  return found;
}

/** Kubernetes' path matching: Exact is equality, Prefix matches whole segments; the longest path wins. */
function ingressRoute(paths: readonly IngressPath[], path: string): IngressPath | undefined {
  const segments = (p: string) => p.split('/').filter(Boolean);
  const matches = paths.filter((candidate) => {
    if (candidate.pathType === 'Exact') return candidate.path === path;
    if (candidate.pathType !== 'Prefix')
      throw new Error(`pathType ${candidate.pathType} is not understood by this test`);
    const prefix = segments(candidate.path);
    const asked = segments(path);
    return prefix.every((segment, i) => asked[i] === segment);
  });
  matches.sort((a, b) => b.path.length - a.path.length || (a.pathType === 'Exact' ? -1 : 1));
  return matches[0];
}

/** ingress-nginx refuses every client of that Ingress's locations (403) when it denies all of IPv4 and IPv6. */
function deniesEveryone(ingress: Data): boolean {
  const annotations = ((ingress.metadata as Data).annotations ?? {}) as Record<string, string>;
  const denied = (annotations['nginx.ingress.kubernetes.io/denylist-source-range'] ?? '')
    .split(',')
    .map((s) => s.trim());
  return denied.includes('0.0.0.0/0') && denied.includes('::/0');
}

describe("Kubernetes (deploy/kubernetes/ingress.yaml): the portal's Ingress does not publish the decision endpoints", () => {
  const paths = ingressPaths('auth.example.com');

  it('the portal is served by Gatehouse to everyone', () => {
    for (const path of PORTAL_PATHS) {
      const route = ingressRoute(paths, path);
      assert.equal(route?.service, 'gatehouse', path);
      assert.equal(deniesEveryone(route!.ingress), false, `${path} is open`);
    }
  });

  it('the decision endpoints land on an Ingress that refuses every client address', () => {
    for (const path of DECISION_PATHS) {
      const route = ingressRoute(paths, path);
      assert.ok(route, path);
      assert.ok(deniesEveryone(route.ingress), `${path} is refused (${String((route.ingress.metadata as Data).name)})`);
    }
  });

  it('it needs no snippet annotation (off by default since ingress-nginx 1.9)', () => {
    for (const doc of yamlDocuments('deploy/kubernetes/ingress.yaml') as Data[]) {
      const annotations = Object.keys(((doc.metadata as Data).annotations ?? {}) as Data);
      assert.deepEqual(
        annotations.filter((a) => a.endsWith('-snippet')),
        [],
        String((doc.metadata as Data).name),
      );
    }
  });
});
