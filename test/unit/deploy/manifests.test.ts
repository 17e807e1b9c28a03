// Issue 4, item 7: the deployment files parse and their names line up: what one file refers to (a Service's
// selector, a mounted ConfigMap, a compose service behind an upstream, a Traefik middleware) exists in another,
// and the Gatehouse configurations they carry pass Gatehouse's own validation.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../../src/config/index.js';
import { packageRoot } from '../../../src/paths.js';
import {
  dockerfileInstructions,
  filesUnder,
  nginxDirectiveValues,
  readRepoFile,
  yamlDocuments,
} from './deploy-files.js';

type Data = Record<string, unknown>;

function record(value: unknown, what: string): Data {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is a map`);
  return value as Data;
}
function list(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} is a list`);
  return value;
}
function text(value: unknown, what: string): string {
  assert.equal(typeof value, 'string', `${what} is a string`);
  return value as string;
}
/** `get(x, 'spec', 'template')`: a path into parsed YAML, asserting each step is a map. */
function get(value: unknown, ...path: string[]): unknown {
  let node = value;
  path.forEach((key, i) => {
    node = record(node, path.slice(0, i).join('.') || 'document')[key];
  });
  return node;
}
function isSubset(subset: Data, of: Data): boolean {
  return Object.entries(subset).every(([k, v]) => of[k] === v);
}

const SECRET_ENV = {
  GATEHOUSE_SESSION_SECRET: 'a-session-secret-for-validation-only-0123456789',
  GATEHOUSE_IDENTITY_VALIDATION_JWT_SECRET: 'a-jwt-secret-for-validation-only-0123456789',
};

/** Gatehouse's own loader on a configuration text, as `gatehouse validate-config` would run it. */
function loadConfigText(yamlText: string, env: Record<string, string>): LoadedConfig {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-'));
  try {
    const path = join(dir, 'configuration.yml');
    writeFileSync(path, yamlText);
    return loadConfig({ files: [path], env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FOUR_HEADERS = ['Remote-User', 'Remote-Groups', 'Remote-Name', 'Remote-Email'];

describe('YAML under deploy/ and traefik/', () => {
  it('every file parses, every document of it', () => {
    const files = [...filesUnder('deploy', ['.yml', '.yaml']), ...filesUnder('traefik', ['.yml', '.yaml'])];
    assert.ok(files.length >= 10, `found ${files.join(', ')}`);
    for (const file of files) {
      const docs = yamlDocuments(file);
      assert.ok(docs.length > 0 && docs.every((doc) => doc !== null && doc !== undefined), `${file} has content`);
    }
  });
});

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const kustomization = record(yamlDocuments('deploy/kubernetes/kustomization.yaml')[0], 'kustomization');
  const resourceFiles = list(kustomization.resources, 'resources').map((r) => text(r, 'resource'));
  const objects = resourceFiles.flatMap((file) =>
    yamlDocuments(`deploy/kubernetes/${file}`).map((doc) => record(doc, file)),
  );
  const named = (kind: string, name: string): Data | undefined =>
    objects.find((o) => o.kind === kind && get(o, 'metadata', 'name') === name);
  const all = (kind: string): Data[] => objects.filter((o) => o.kind === kind);
  const deployment = named('Deployment', 'gatehouse')!;
  const podSpec = record(get(deployment, 'spec', 'template', 'spec'), 'pod spec');
  const podLabels = record(get(deployment, 'spec', 'template', 'metadata', 'labels'), 'pod labels');
  const container = record(list(podSpec.containers, 'containers')[0], 'container');
  const namespace = text(kustomization.namespace, 'namespace');

  it('the kustomization lists every manifest, and each object has a kind and a name', () => {
    const onDisk = filesUnder('deploy/kubernetes', ['.yaml', '.yml'])
      .map((f) => posix.basename(f))
      .filter((f) => f !== 'kustomization.yaml');
    assert.deepEqual([...resourceFiles].sort(), onDisk.sort());
    for (const object of objects) {
      assert.equal(typeof object.apiVersion, 'string');
      assert.equal(typeof object.kind, 'string');
      text(get(object, 'metadata', 'name'), `${String(object.kind)} name`);
    }
    assert.ok(named('Namespace', namespace), 'the namespace is created');
  });

  it('a Deployment of three replicas whose selector matches its pods, probed on /api/health', () => {
    assert.ok(deployment);
    assert.equal(get(deployment, 'spec', 'replicas'), 3);
    assert.ok(isSubset(record(get(deployment, 'spec', 'selector', 'matchLabels'), 'selector'), podLabels));
    const portNames = list(container.ports, 'ports').map((p) => get(p, 'name'));
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      assert.equal(get(container, probe, 'httpGet', 'path'), '/api/health', probe);
      assert.ok(portNames.includes(get(container, probe, 'httpGet', 'port')), `${probe} port is declared`);
    }
    assert.equal(get(podSpec, 'securityContext', 'runAsNonRoot'), true);
    // The pod runs as the image's own user.
    const dockerUser = dockerfileInstructions(readRepoFile('Dockerfile'))
      .filter((i) => i.name === 'USER')
      .at(-1)!.args;
    assert.equal(String(get(podSpec, 'securityContext', 'runAsUser')), dockerUser.split(':')[0]);
    assert.deepEqual(container.args, ['serve', '--config', '/config/configuration.yml']);
  });

  it('the Service, the PodDisruptionBudget and the Ingresses point at what exists', () => {
    const service = named('Service', 'gatehouse')!;
    assert.ok(service);
    assert.ok(isSubset(record(get(service, 'spec', 'selector'), 'service selector'), podLabels));
    const servicePorts = list(get(service, 'spec', 'ports'), 'service ports').map((p) => record(p, 'service port'));
    for (const servicePort of servicePorts) {
      assert.ok(
        list(container.ports, 'ports').some((p) => get(p, 'name') === servicePort.targetPort),
        `targetPort ${String(servicePort.targetPort)} names a container port`,
      );
    }
    // Prometheus finds the replicas through the Service: the metrics port must be on it.
    assert.ok(
      servicePorts.some((p) => p.targetPort === 'metrics'),
      'the Service exposes the metrics port',
    );

    const pdbs = all('PodDisruptionBudget');
    assert.equal(pdbs.length, 1);
    assert.ok(isSubset(record(get(pdbs[0], 'spec', 'selector', 'matchLabels'), 'pdb selector'), podLabels));

    const ingresses = all('Ingress');
    assert.ok(ingresses.length >= 2);
    for (const ingress of ingresses) {
      for (const rule of list(get(ingress, 'spec', 'rules'), 'rules')) {
        for (const path of list(get(rule, 'http', 'paths'), 'paths')) {
          const backend = record(get(path, 'backend', 'service'), 'backend');
          const target = named('Service', text(backend.name, 'backend name'));
          assert.ok(target, `Service ${String(backend.name)} exists`);
          const portName = get(backend, 'port', 'name');
          assert.ok(
            list(get(target, 'spec', 'ports'), 'ports').some((p) => get(p, 'name') === portName),
            `port ${String(portName)} exists`,
          );
        }
      }
    }
  });

  it('every ConfigMap and Secret the pod reads exists, with the keys it reads', () => {
    const volumes = new Map(list(podSpec.volumes, 'volumes').map((v) => [get(v, 'name'), record(v, 'volume')]));
    const mounts = list(container.volumeMounts, 'mounts').map((m) => record(m, 'mount'));
    const keysAt = new Map<string, string[]>();
    for (const mount of mounts) {
      const volume = volumes.get(mount.name);
      assert.ok(volume, `volume ${String(mount.name)} is declared`);
      const source = volume.configMap
        ? named('ConfigMap', text(get(volume, 'configMap', 'name'), 'configMap name'))
        : named('Secret', text(get(volume, 'secret', 'secretName'), 'secret name'));
      assert.ok(source, `the ConfigMap/Secret of volume ${String(mount.name)} exists`);
      keysAt.set(text(mount.mountPath, 'mountPath'), Object.keys(record(source.data ?? source.stringData, 'data')));
    }
    const fileExists = (path: string) => keysAt.get(dirname(path))?.includes(posix.basename(path)) ?? false;
    assert.ok(fileExists('/config/configuration.yml'), 'the --config file is mounted');
    for (const env of list(container.env, 'env').map((e) => record(e, 'env'))) {
      if (text(env.name, 'env name').endsWith('_FILE'))
        assert.ok(fileExists(text(env.value, 'env value')), `${String(env.name)} names a mounted file`);
    }
  });

  it("the ConfigMap's configuration is valid, and the Ingress annotations agree with it and with the Service", () => {
    const configText = text(
      get(named('ConfigMap', 'gatehouse-config'), 'data', 'configuration.yml'),
      'configuration.yml',
    );
    const { config } = loadConfigText(configText, SECRET_ENV);
    assert.ok(fileInSecret(config.authentication_backend.file.path), 'the users file is in the mounted Secret');
    const portal = config.session.cookies[0]!.authelia_url!;

    const protectedApp = all('Ingress').find(
      (i) =>
        record(get(i, 'metadata', 'annotations') ?? {}, 'annotations')['nginx.ingress.kubernetes.io/auth-url'] !==
        undefined,
    )!;
    const annotations = record(get(protectedApp, 'metadata', 'annotations'), 'annotations');
    const authUrl = new URL(text(annotations['nginx.ingress.kubernetes.io/auth-url'], 'auth-url'));
    assert.equal(authUrl.hostname, `gatehouse.${namespace}.svc.cluster.local`);
    assert.equal(
      authUrl.port,
      String(get(list(get(named('Service', 'gatehouse'), 'spec', 'ports'), 'ports')[0], 'port')),
    );
    assert.equal(authUrl.pathname, '/api/authz/auth-request');
    assert.equal(annotations['nginx.ingress.kubernetes.io/auth-method'], 'GET');
    const signin = new URL(text(annotations['nginx.ingress.kubernetes.io/auth-signin'], 'auth-signin'));
    assert.equal(signin.origin, portal.origin);
    assert.deepEqual(
      text(annotations['nginx.ingress.kubernetes.io/auth-response-headers'], 'headers').split(','),
      FOUR_HEADERS,
    );
    const portalIngress = named('Ingress', 'gatehouse-portal')!;
    assert.equal(get(list(get(portalIngress, 'spec', 'rules'), 'rules')[0], 'host'), portal.hostname);
  });

  function fileInSecret(path: string): boolean {
    const secret = named('Secret', 'gatehouse-secrets')!;
    return path.startsWith('/secrets/') && posix.basename(path) in record(secret.stringData, 'stringData');
  }
});

describe('Compose stack (deploy/docker-compose.yml)', () => {
  const compose = record(yamlDocuments('deploy/docker-compose.yml')[0], 'compose');
  const services = record(compose.services, 'services');
  const service = (name: string) => record(services[name], `service ${name}`);
  const labelsOf = (name: string) => record(service(name).labels ?? {}, `${name} labels`);
  const gatehouseConfig = (): LoadedConfig => {
    const env = Object.fromEntries(
      Object.entries(record(service('gatehouse').environment, 'environment')).map(([k, v]) => [k, String(v)]),
    );
    return loadConfigText(readRepoFile('deploy/gatehouse/configuration.yml'), env);
  };
  /** Container path → repository path, for a service's bind mounts. */
  const bindMounts = (name: string) =>
    new Map(
      list(service(name).volumes ?? [], 'volumes')
        .map((v) => text(v, 'volume').split(':'))
        .filter(([source]) => source!.startsWith('.'))
        .map(([source, target]) => [target!, posix.normalize(posix.join('deploy', source!))]),
    );
  /** The repository path behind a container path, through a folder (or file) bind mount; undefined when unmounted. */
  const mountedFrom = (name: string, containerPath: string): string | undefined => {
    for (const [target, source] of bindMounts(name)) {
      if (containerPath === target) return source;
      if (containerPath.startsWith(`${target}/`)) return posix.join(source, containerPath.slice(target.length + 1));
    }
    return undefined;
  };
  const isFile = (repoPath: string) =>
    statSync(join(packageRoot, repoPath), { throwIfNoEntry: false })?.isFile() === true;
  const isFolder = (repoPath: string) =>
    statSync(join(packageRoot, repoPath), { throwIfNoEntry: false })?.isDirectory() === true;

  it('has Gatehouse, Redis, PostgreSQL, nginx, Traefik, a mail catcher and two demo apps', () => {
    const images = Object.fromEntries(
      Object.entries(services).map(([name, s]) => [name, String(record(s, name).image)]),
    );
    assert.ok(service('gatehouse').build, 'Gatehouse is built from the Dockerfile');
    for (const [name, image] of [
      ['redis', /^redis:/],
      ['postgres', /^postgres:/],
      ['nginx', /^nginx:/],
      ['traefik', /^traefik:/],
      ['mailpit', /mailpit/],
    ] as const) {
      assert.match(images[name] ?? '', image, name);
    }
    assert.deepEqual(
      Object.entries(images)
        .filter(([, image]) => image.startsWith('traefik/whoami'))
        .map(([name]) => name)
        .sort(),
      ['app', 'secure'],
    );
    assert.equal(get(service('gatehouse'), 'build', 'dockerfile'), 'Dockerfile');
  });

  it('every file it mounts exists and every service it depends on is defined', () => {
    for (const name of Object.keys(services)) {
      for (const source of bindMounts(name).values())
        assert.ok(isFile(source) || isFolder(source), `${name} mounts ${source}`);
      for (const dependency of Object.keys(record(service(name).depends_on ?? {}, 'depends_on')))
        assert.ok(dependency in services, `${name} depends on ${dependency}`);
    }
  });

  it("Gatehouse's configuration is valid and reaches the stack's Redis, PostgreSQL and mail catcher", () => {
    const { config } = gatehouseConfig();
    assert.equal(mountedFrom('gatehouse', '/config/configuration.yml'), 'deploy/gatehouse/configuration.yml');
    assert.equal(config.session.redis?.host, 'redis');
    assert.equal(config.storage.postgres?.address.host, 'postgres');
    const postgresEnv = record(service('postgres').environment, 'postgres environment');
    assert.equal(config.storage.postgres?.database, postgresEnv.POSTGRES_DB);
    assert.equal(config.storage.postgres?.username, postgresEnv.POSTGRES_USER);
    assert.equal(config.storage.postgres?.password, postgresEnv.POSTGRES_PASSWORD);
    assert.match(config.notifier.smtp?.address ?? '', /^smtp:\/\/mailpit:\d+$/);
    const users = mountedFrom('gatehouse', config.authentication_backend.file.path);
    assert.ok(users !== undefined && isFile(users), 'the users file is mounted');
  });

  it("mounts the users file's folder, so that watch sees a file replaced by an editor (a new inode)", () => {
    const { config } = gatehouseConfig();
    const folder = posix.dirname(config.authentication_backend.file.path);
    const source = bindMounts('gatehouse').get(folder);
    assert.ok(source !== undefined && isFolder(source), `the folder ${folder} is a bind mount`);
    assert.ok(
      !bindMounts('gatehouse').has(config.authentication_backend.file.path),
      'the file itself is not mounted alone',
    );
  });

  it('nginx includes the mounted snippets and proxies to services of the stack, for the nginx cookie domain', () => {
    const mounts = bindMounts('nginx');
    const site = readRepoFile(mounts.get('/etc/nginx/conf.d/default.conf')!);
    const includes = nginxDirectiveValues(site, 'include');
    assert.ok(includes.length > 0);
    for (const include of includes) assert.ok(mounts.has(include), `${include} is mounted`);
    for (const target of mounts.values())
      if (target.startsWith('nginx/')) assert.doesNotThrow(() => readRepoFile(target));
    for (const server of nginxDirectiveValues(site, 'server')) {
      const host = server.split(':')[0]!;
      assert.ok(host in services, `upstream ${server} is a service of the stack`);
    }
    const cookie = gatehouseConfig().cookies.find((c) => c.domain === 'nginx.localhost')!;
    const serverNames = nginxDirectiveValues(site, 'server_name');
    assert.ok(serverNames.includes(cookie.portalUrl.hostname), 'nginx serves its portal');
    assert.equal(
      cookie.portalUrl.port,
      String(list(service('nginx').ports, 'ports').map((p) => text(p, 'port').split(':').at(-2))[0]),
    );
  });

  it('Traefik routes by labels through a forwardAuth middleware that asks Gatehouse', () => {
    assert.ok(bindMounts('traefik').has('/etc/traefik/traefik.yml'));
    const middlewares = new Map<string, Data>();
    for (const name of Object.keys(services)) {
      for (const [key, value] of Object.entries(labelsOf(name))) {
        const match = /^traefik\.http\.middlewares\.([^.]+)\.forwardauth\.(.+)$/.exec(key);
        if (match) middlewares.set(match[1]!, { ...middlewares.get(match[1]!), [match[2]!]: value });
      }
    }
    const forwardAuth = middlewares.get('gatehouse')!;
    assert.ok(forwardAuth, 'the gatehouse middleware is declared by labels');
    const address = new URL(text(forwardAuth.address, 'address'));
    assert.ok(address.hostname in services);
    assert.equal(address.pathname, '/api/authz/forward-auth');
    assert.equal(forwardAuth.trustForwardHeader, 'true');
    assert.deepEqual(text(forwardAuth.authResponseHeaders, 'headers').split(','), FOUR_HEADERS);

    const cookie = gatehouseConfig().cookies.find((c) => c.domain === 'traefik.localhost')!;
    for (const name of ['app', 'secure']) {
      const labels = labelsOf(name);
      assert.equal(labels[`traefik.http.routers.${name}.middlewares`], 'gatehouse@docker', `${name} is protected`);
      const host = /Host\(`([^`]+)`\)/.exec(text(labels[`traefik.http.routers.${name}.rule`], 'rule'))![1]!;
      assert.ok(host.endsWith(`.${cookie.domain}`), `${host} lies under the Traefik cookie domain`);
    }
    assert.match(
      text(labelsOf('gatehouse')['traefik.http.routers.gatehouse.rule'], 'rule'),
      new RegExp(`^Host\\(\`${cookie.portalUrl.hostname.replaceAll('.', '\\.')}\`\\)`),
    );
  });
});

describe('Traefik configuration (traefik/)', () => {
  const staticConfig = record(yamlDocuments('traefik/traefik.yml')[0], 'traefik.yml');
  const dynamic = record(yamlDocuments('traefik/dynamic.yml')[0], 'dynamic.yml');
  const routing = record(yamlDocuments('traefik/routers.yml')[0], 'routers.yml');
  const forwardAuth = record(get(dynamic, 'http', 'middlewares', 'gatehouse', 'forwardAuth'), 'forwardAuth');

  it('the middleware asks Gatehouse and copies the four identity headers', () => {
    assert.equal(forwardAuth.address, 'http://gatehouse:9091/api/authz/forward-auth');
    assert.equal(forwardAuth.trustForwardHeader, true);
    assert.deepEqual(forwardAuth.authResponseHeaders, FOUR_HEADERS);
  });

  it('the routers use existing entry points, services and middlewares; the portal has no middleware', () => {
    const entryPoints = Object.keys(record(staticConfig.entryPoints, 'entryPoints'));
    const serviceNames = Object.keys(record(get(routing, 'http', 'services'), 'services'));
    const routers = record(get(routing, 'http', 'routers'), 'routers');
    for (const [name, router] of Object.entries(routers)) {
      for (const entryPoint of list(get(router, 'entryPoints'), 'entryPoints'))
        assert.ok(entryPoints.includes(text(entryPoint, 'entry point')), `${name}: ${String(entryPoint)}`);
      assert.ok(serviceNames.includes(text(get(router, 'service'), 'service')), `${name}'s service exists`);
      for (const middleware of list(get(router, 'middlewares') ?? [], 'middlewares'))
        assert.equal(middleware, 'gatehouse@file', name);
    }
    assert.equal(get(routers.gatehouse, 'middlewares'), undefined);
    assert.equal(get(routing, 'http', 'services', 'gatehouse', 'loadBalancer', 'healthCheck', 'path'), '/api/health');
    assert.ok(
      get(staticConfig, 'providers', 'file', 'directory'),
      'the file provider reads a directory (dynamic.yml and routers.yml)',
    );
  });

  it('docker-labels.md declares the same middleware', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(readRepoFile('traefik/docker-labels.md'))![1]!;
    const labels = record(get(parseYaml(block), 'services', 'gatehouse', 'labels'), 'labels');
    const prefix = 'traefik.http.middlewares.gatehouse.forwardauth.';
    assert.equal(labels[`${prefix}address`], forwardAuth.address);
    assert.equal(labels[`${prefix}trustForwardHeader`], String(forwardAuth.trustForwardHeader));
    assert.equal(labels[`${prefix}authResponseHeaders`], FOUR_HEADERS.join(','));
    assert.equal(
      get(parseYaml(block), 'services', 'app', 'labels', 'traefik.http.routers.app.middlewares'),
      'gatehouse@docker',
    );
  });
});

describe('nginx/ and caddy/ (exercised against the real programs in test/e2e/proxies)', () => {
  it('the example site includes the shipped snippets and declares the upstream the location snippet uses', () => {
    const site = readRepoFile('nginx/example-site.conf');
    const snippets = nginxDirectiveValues(site, 'include').map((path) => posix.basename(path));
    assert.deepEqual([...new Set(snippets)].sort(), [
      'gatehouse-authrequest.conf',
      'gatehouse-location.conf',
      'proxy.conf',
    ]);
    for (const snippet of snippets) assert.doesNotThrow(() => readRepoFile('nginx', snippet));
    assert.match(
      readRepoFile('nginx/gatehouse-location.conf'),
      /proxy_pass http:\/\/gatehouse\/api\/authz\/auth-request;/,
    );
    assert.match(site, /upstream gatehouse \{/);
  });

  it('the Caddyfile asks forward-auth and copies the four identity headers', () => {
    const caddyfile = readRepoFile('caddy/Caddyfile');
    assert.match(
      caddyfile,
      /forward_auth gatehouse:9091 \{\s*uri \/api\/authz\/forward-auth\s*copy_headers Remote-User Remote-Groups Remote-Name Remote-Email\s*\}/,
    );
  });
});
