// `storage.postgres.tls` against a real PostgreSQL of the test's own (Debian's server binaries, started on a free
// loopback port) that takes TLS connections only: Gatehouse's records travel over TLS; a certificate trusted through
// NODE_EXTRA_CA_CERTS and matching `server_name` is accepted, and every other certificate, name or missing TLS is
// refused with a clear error rather than a connection in the clear.
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { packageRoot } from '../../../src/paths.js';
import { openStorage } from '../../../src/storage/open.js';
import { configSchema } from '../../../src/config/schema.js';
import type { PostgresConfig } from '../../../src/storage/pg-driver.js';
import { startGatehouse, testConfig, type TestGatehouse } from '../../helpers/gatehouse.js';
import { signIn } from '../../helpers/flows.js';
import { freePort, runCli } from '../../helpers/process.js';

/** Test-only self-signed certificate for CN=localhost, SAN localhost and 127.0.0.1; it is its own CA. */
const CERT = join(packageRoot, 'test/fixtures/tls/cert.pem');
const KEY = join(packageRoot, 'test/fixtures/tls/key.pem');

type TlsSection = { server_name?: string; skip_verify?: boolean };

/** Debian's server binaries, newest version first. */
function serverBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((bin) => existsSync(join(bin, 'postgres')));
  if (found === undefined) throw new Error(`PostgreSQL's server binaries are needed (${root}/<version>/bin/postgres)`);
  return found;
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user (who then owns `dir`). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => {
    const run = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error("running as root, the test's PostgreSQL needs a 'postgres' user to run as");
    return Number(run.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

interface TlsPostgres {
  port: number;
  stop(): Promise<void>;
}

async function startTlsPostgres(dir: string): Promise<TlsPostgres> {
  const bin = serverBin();
  const data = join(dir, 'data');
  copyFileSync(CERT, join(dir, 'server.crt'));
  copyFileSync(KEY, join(dir, 'server.key'));
  chmodSync(join(dir, 'server.key'), 0o600);
  const user = serverUser();
  if (user) spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-N'], {
    encoding: 'utf8',
    ...user,
  });
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}${init.stderr}`);
  // TLS connections only, over TCP; the Unix socket (in `dir`) is the test's own way in, to check the premise.
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\n');
  const port = await freePort();
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${join(dir, 'server.crt')}`,
    '-c',
    `ssl_key_file=${join(dir, 'server.key')}`,
    '-c',
    'fsync=off',
  ];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...user });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  // Never left running after this process, however it ends.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // fast shutdown
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (output.includes('ready to accept connections')) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the TLS PostgreSQL did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, stop };
}

/** `storage.postgres` for the TLS server, parsed by the real configuration schema. */
function postgresConfig(port: number, tls: TlsSection | undefined): PostgresConfig {
  return configSchema.shape.storage
    .unwrap()
    .shape.postgres.unwrap()
    .parse({
      address: `tcp://127.0.0.1:${port}`,
      database: 'postgres',
      schema: 'public',
      username: 'postgres',
      timeout: '3s',
      ...(tls ? { tls } : {}),
    });
}

describe('storage.postgres.tls against a PostgreSQL that takes TLS connections only', () => {
  let dir: string;
  let server: TlsPostgres;
  let t: TestGatehouse | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-tls-'));
    server = await startTlsPostgres(dir);
  });

  afterAll(async () => {
    await t?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A YAML configuration with the given tls section, for the CLI in a process of its own. */
  async function configFile(name: string, tls: TlsSection | undefined): Promise<string> {
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, 'users: {}\n');
    const { raw } = await testConfig({ dir, usersPath, storage: 'embedded' });
    const storage = { postgres: { ...postgresConfigYaml(server.port), ...(tls ? { tls } : {}) } };
    const path = join(dir, `${name}.yml`);
    writeFileSync(path, stringify({ ...raw, storage }));
    return path;
  }

  const listAttempts = (config: string, env: Record<string, string> = {}) =>
    runCli(['storage', 'authentication-log', 'list', '--json', '--config', config], { env });

  it('the premise: a client without TLS is refused by the server', async () => {
    const storage = await openStorage({ postgres: postgresConfig(server.port, undefined), local: { path: 'unused' } });
    try {
      await assert.rejects(storage.ping(), (error: Error) => {
        assert.match(`${error.message} ${String((error as { cause?: Error }).cause?.message)}`, /no encryption/);
        return true;
      });
    } finally {
      await storage.close();
    }
  });

  it('skip_verify: true: a whole Gatehouse keeps its records over TLS (sign-in recorded, read back over TLS)', async () => {
    const config = postgresConfig(server.port, { skip_verify: true });
    t = await startGatehouse({
      storage: 'postgres',
      postgres: { url: `postgres://postgres@127.0.0.1:${server.port}/postgres`, config, cleanup: async () => {} },
      config: { storage: { postgres: { tls: { skip_verify: true } } } },
    });
    assert.equal((await fetch(`${t.url}/api/health`)).status, 200);
    await signIn(t, 'john');
    // Read back with a client that verifies the certificate, to see that the server holds it.
    const client = new pg.Client({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      ssl: { ca: readFileSync(CERT, 'utf8'), servername: 'localhost' },
    });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT username, successful FROM "${config.schema}".authentication_logs WHERE username = 'john'`,
      );
      assert.ok(
        rows.some((row: { successful: boolean }) => row.successful),
        JSON.stringify(rows),
      );
    } finally {
      await client.end();
    }
  });

  it('verified through NODE_EXTRA_CA_CERTS with the certificate’s name: the CLI reads the records', async () => {
    const storage = await openStorage({
      postgres: postgresConfig(server.port, { skip_verify: true }),
      local: { path: 'unused' },
    });
    try {
      await storage.migrate();
      await storage.appendAuthenticationLog({
        time: new Date(),
        successful: false,
        banned: false,
        username: 'tls-reader',
        authType: '1FA',
        remoteIp: '127.0.0.1',
        requestUri: 'https://app.example.com/',
        requestMethod: 'GET',
      });
    } finally {
      await storage.close();
    }
    const run = await listAttempts(await configFile('trusted', { server_name: 'localhost' }), {
      NODE_EXTRA_CA_CERTS: CERT,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /"tls-reader"/);
  });

  it('a name the certificate does not carry, an untrusted certificate, or no TLS at all: refused, saying why', async () => {
    const wrongName = await listAttempts(await configFile('wrong-name', { server_name: 'wrong.example' }), {
      NODE_EXTRA_CA_CERTS: CERT,
    });
    assert.notEqual(wrongName.code, 0);
    assert.match(
      wrongName.stderr,
      /storage unavailable: TLS .* failed: Hostname\/IP does not match certificate's altnames/,
    );

    const untrusted = await listAttempts(await configFile('untrusted', { server_name: 'localhost' }));
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /storage unavailable: TLS .* failed: self-signed certificate/);

    const plain = await listAttempts(await configFile('plain', undefined));
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /storage unavailable: .*no pg_hba\.conf entry .* no encryption/);
    for (const run of [wrongName, untrusted, plain]) assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });
});

/** The same section as YAML would write it (durations and addresses as text). */
function postgresConfigYaml(port: number): Record<string, unknown> {
  return {
    address: `tcp://127.0.0.1:${port}`,
    database: 'postgres',
    schema: 'public',
    username: 'postgres',
    timeout: '3s',
  };
}
