// `npm run bench`: the authz hot path against a floor. Drives /api/authz/auth-request of a real Gatehouse process
// (sessions in Redis, ~50 rules, a signed-in session) and, in the same run, a bare node:http server that does one
// Redis GET per request, each at 64 concurrent connections; prints requests/s, p50/p99 latency and their ratio.
// Figures, not assertions: the targets (>= 70% of the bare server's requests/s, p99 < 10 ms) are read by people.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import autocannon from 'autocannon';
import { hashPassword } from '../src/users/hashing.js';
import { packageRoot } from '../src/paths.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = 2;
const REDIS = new URL(process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const PREFIX = `gh_bench_${process.pid}:`;

/** ~50 realistic rules; the request is decided by one near the end, so every rule is looked at. */
function rules(): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  for (let i = 0; i < 20; i++)
    list.push({ domain: `app${i}.example.com`, policy: i % 2 ? 'one_factor' : 'two_factor' });
  for (let i = 0; i < 10; i++)
    list.push({ domain: `*.team${i}.example.com`, subject: [[`group:team${i}`]], policy: 'one_factor' });
  for (let i = 0; i < 10; i++)
    list.push({
      domain_regex: `^svc${i}-[a-z]+\\.example\\.com$`,
      resources: ['^/api([/?].*)?$'],
      methods: ['GET', 'POST'],
      policy: 'one_factor',
    });
  for (let i = 0; i < 8; i++)
    list.push({ domain: `intra${i}.example.com`, networks: ['10.0.0.0/8', '192.168.0.0/16'], policy: 'bypass' });
  list.push({
    domain: 'bench.example.com',
    resources: ['^/admin([/?].*)?$'],
    subject: 'group:admins',
    policy: 'two_factor',
  });
  list.push({ domain: 'bench.example.com', policy: 'one_factor' });
  return list;
}

async function writeConfig(dir: string): Promise<string> {
  const usersPath = join(dir, 'users.yml');
  const hash = await hashPassword('bench-password', {
    variant: 'argon2id',
    iterations: 1,
    memory: 1024,
    parallelism: 1,
    key_length: 32,
    salt_length: 16,
  });
  writeFileSync(
    usersPath,
    stringify({
      users: { bench: { displayname: 'Bench User', password: hash, email: 'bench@example.com', groups: ['dev'] } },
    }),
  );
  const configPath = join(dir, 'configuration.yml');
  writeFileSync(
    configPath,
    stringify({
      server: { address: 'tcp://127.0.0.1:19091' },
      log: { level: 'warn' },
      authentication_backend: { file: { path: usersPath } },
      identity_validation: { jwt_secret: 'bench-jwt-secret-bench-jwt-secret-0123456789' },
      session: {
        secret: 'bench-session-secret-bench-session-secret-0123',
        cookies: [{ domain: 'example.com', authelia_url: 'https://auth.example.com' }],
        redis: {
          host: REDIS.hostname,
          port: Number(REDIS.port || 6379),
          key_prefix: PREFIX,
          database_index: Number(REDIS.pathname.slice(1) || 0),
        },
      },
      storage: { local: { path: join(dir, 'db') } },
      notifier: { filesystem: { filename: join(dir, 'notification.txt') } },
      access_control: { default_policy: 'deny', rules: rules() },
    }),
  );
  return configPath;
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; cookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cookie: (res.headers['set-cookie']?.[0] ?? '').split(';')[0]! }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpuUsPerRequest: number;
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function load(url: string, headers: Record<string, string>, server: ChildProcess): Promise<Figures> {
  await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_S, headers });
  const cpuBefore = cpuSeconds(server.pid!);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  const cpu = cpuSeconds(server.pid!) - cpuBefore;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuUsPerRequest: (cpu * 1e6) / result.requests.total,
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const configPath = await writeConfig(dir);
  // BENCH_CPU_PROF=DIR writes a V8 CPU profile of the Gatehouse process there (open it in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const gatehouse = start([...profile, 'dist/src/cli.js', 'serve', '--config', configPath]);
  let bare: ChildProcess | undefined;
  try {
    await waitFor('http://127.0.0.1:19091/api/health');
    const signIn = await post(
      'http://127.0.0.1:19091/api/firstfactor',
      JSON.stringify({ username: 'bench', password: 'bench-password' }),
      {
        // The portal is found by Host, which fetch() will not set: hence node:http here.
        Host: 'auth.example.com',
        Origin: 'https://auth.example.com',
        'Content-Type': 'application/json',
      },
    );
    const cookie = signIn.cookie;
    if (signIn.status !== 200 || !cookie.startsWith('gatehouse_session='))
      throw new Error(`bench sign-in failed: ${signIn.status}`);
    const headers = {
      'X-Original-URL': 'https://bench.example.com/dashboard?tab=1',
      'X-Original-Method': 'GET',
      Cookie: cookie,
    };
    const check = await fetch('http://127.0.0.1:19091/api/authz/auth-request', { headers });
    if (check.status !== 200) throw new Error(`bench session is not allowed: ${check.status}`);

    const gh = await load('http://127.0.0.1:19091/api/authz/auth-request', headers, gatehouse);
    await stop(gatehouse);

    bare = start(['dist/bench/bare-server.js'], {
      BARE_PORT: '19092',
      BARE_REDIS_URL: REDIS.href,
      BARE_KEY: `${PREFIX}bare`,
    });
    await waitFor('http://127.0.0.1:19092/');
    const floor = await load('http://127.0.0.1:19092/', { Cookie: cookie }, bare);

    const row = (name: string, f: Figures) =>
      `${name.padEnd(34)} ${f.rps.toFixed(0).padStart(8)} req/s   p50 ${String(f.p50).padStart(3)} ms   p99 ${String(f.p99).padStart(3)} ms   ${f.cpuUsPerRequest.toFixed(0).padStart(3)} µs CPU/request   non-2xx ${f.non2xx}   errors ${f.errors}`;
    console.log(
      `\nauthz benchmark: ${CONNECTIONS} connections, ${DURATION_S} s each (after ${WARMUP_S} s warm-up), ${rules().length} rules`,
    );
    console.log(row('gatehouse /api/authz/auth-request', gh));
    console.log(row('bare node:http + one Redis GET', floor));
    console.log(
      `ratio: ${((gh.rps / floor.rps) * 100).toFixed(1)}% of the bare server's requests/s (target >= 70%), gatehouse p99 ${gh.p99} ms (target < 10 ms)`,
    );
  } finally {
    await stop(gatehouse);
    if (bare) await stop(bare);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
