// Issue 4, item 6: the Dockerfile cannot be built here (no Docker engine), so what can be checked is checked: its
// shape (multi-stage, production dependencies only, non-root, health check, the CLI as entry point), that what
// it copies exists and is not ignored, that the runtime code needs no dev dependency, and that its entry and
// health commands behave against a real Gatehouse started the way the image starts it.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SHIPPED_NODE_FLAGS } from '../../../src/node-flags.js';
import { packageRoot } from '../../../src/paths.js';
import { DEFAULT_USERS, testConfig, usersYaml } from '../../helpers/gatehouse.js';
import { freePort } from '../../helpers/process.js';
import {
  dockerfileInstructions,
  execForm,
  filesUnder,
  readRepoFile,
  repoPath,
  type Instruction,
} from './deploy-files.js';

const instructions = dockerfileInstructions(readRepoFile('Dockerfile'));
const finalStage = Math.max(...instructions.map((i) => i.stage));
const inStage = (stage: number, name: string): Instruction[] =>
  instructions.filter((i) => i.stage === stage && i.name === name);
const only = (name: string): Instruction => {
  const found = inStage(finalStage, name);
  assert.equal(found.length, 1, `exactly one ${name} in the runtime stage`);
  return found[0]!;
};

const entrypoint = execForm(only('ENTRYPOINT').args);
const command = execForm(only('CMD').args);
const healthcheck = only('HEALTHCHECK').args;
const healthCommand = execForm(healthcheck.slice(healthcheck.indexOf('CMD') + 3));

/** Static imports and re-exports, side-effect imports, literal dynamic imports and import.meta.resolve calls. */
function moduleSpecifiers(code: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"\n]+)['"]/gm,
    /^\s*import\s*['"]([^'"\n]+)['"]/gm,
    /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g,
    /\bimport\.meta\.resolve\(\s*['"]([^'"\n]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
}

describe('Dockerfile', () => {
  it('builds in one stage and runs from a small one with production dependencies only', () => {
    assert.ok(finalStage >= 1, 'multi-stage');
    const runs = (stage: number) =>
      inStage(stage, 'RUN')
        .map((i) => i.args)
        .join('\n');
    assert.match(runs(0), /npm ci\b/);
    assert.match(runs(0), /npm run build/);
    assert.match(runs(finalStage), /npm ci --omit=dev/);
    assert.match(inStage(finalStage, 'FROM')[0]!.args, /^node:\S*-slim\b/);
    const copied = inStage(finalStage, 'COPY').map((i) => i.args);
    for (const needed of ['package.json', 'dist/src', 'dist/views', 'views/assets', 'src/storage/migrations']) {
      assert.ok(
        copied.some((args) => args.split(/\s+/).some((part) => part === needed || part.endsWith(`/${needed}`))),
        `runtime copies ${needed}`,
      );
    }
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const sources = instructions
      .filter((i) => i.name === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(existsSync(repoPath(source)), `${source} exists`);
      const top = source.split('/')[0]!;
      assert.ok(!ignored.includes(top) && !ignored.includes(source), `${source} is not in .dockerignore`);
    }
    for (const secret of ['configuration.yml', 'users_database.yml', 'node_modules', 'dist', '.git'])
      assert.ok(ignored.includes(secret), `.dockerignore keeps out ${secret}`);
  });

  it('runs as an unprivileged user', () => {
    const user = only('USER').args;
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    const userAt = instructions.indexOf(only('USER'));
    assert.ok(
      instructions.slice(userAt + 1).every((i) => i.name !== 'RUN'),
      'nothing runs as root after USER',
    );
  });

  it('exposes 9091 and checks /api/health with node itself', () => {
    assert.equal(only('EXPOSE').args, '9091');
    assert.match(healthcheck, /--interval=\S+/);
    assert.match(healthcheck, /--timeout=\S+/);
    assert.equal(healthCommand[0], 'node');
    assert.match(healthCommand.join(' '), /http:\/\/127\.0\.0\.1:9091\/api\/health/);
  });

  it('enters through the CLI, serving the configuration mounted at /config', () => {
    assert.deepEqual(entrypoint, ['node', ...SHIPPED_NODE_FLAGS, 'dist/src/cli.js']);
    assert.deepEqual(command, ['serve', '--config', '/config/configuration.yml']);
    const pkg = JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> };
    assert.equal(pkg.bin.gatehouse, entrypoint.at(-1), 'the same file as the package bin');
    assert.ok(existsSync(repoPath(entrypoint.at(-1)!)), 'built by npm run build');
  });

  it('needs no dev dependency at run time (the image installs production ones only)', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const seen = new Set<string>();
    const missing = new Set<string>();
    for (const file of ['dist/src', 'dist/views'].flatMap((dir) => filesUnder(dir, ['.js']))) {
      const code = readRepoFile(file);
      for (const specifier of moduleSpecifiers(code)) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        seen.add(name);
        if (!(name in pkg.dependencies)) missing.add(`${name} (${file})`);
      }
    }
    assert.ok(seen.has('express') && seen.has('ioredis'), 'the scan finds package imports');
    assert.deepEqual([...missing], []);
  });
});

describe("the image's entry and health commands against a real Gatehouse", () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let output = '';

  /** The HEALTHCHECK command, aimed at this test's port instead of 9091; resolves with its exit code. */
  async function runHealthCheck(): Promise<number | null> {
    const [program, ...args] = healthCommand;
    assert.equal(program, 'node');
    const child = spawn(
      process.execPath,
      args.map((a) => a.replace(':9091/', `:${port}/`)),
      { stdio: 'ignore' },
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-docker-'));
    const usersPath = join(dir, 'users.yml');
    writeFileSync(usersPath, await usersYaml(DEFAULT_USERS));
    port = await freePort();
    const { raw } = await testConfig({ dir, usersPath, config: { server: { address: `tcp://127.0.0.1:${port}` } } });
    const configPath = join(dir, 'configuration.yml');
    writeFileSync(configPath, stringify(raw));
    // ENTRYPOINT + CMD as the image runs them (WORKDIR is the package root), the mounted file's path substituted.
    const [, ...entryArgs] = entrypoint;
    const args = [...entryArgs, ...command.map((a) => (a === '/config/configuration.yml' ? configPath : a))];
    server = spawn(process.execPath, args, {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  });

  afterAll(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports healthy (exit 0) once Gatehouse serves', async () => {
    const deadline = Date.now() + 20_000;
    let code = await runHealthCheck();
    while (code !== 0) {
      if (server.exitCode !== null) assert.fail(`gatehouse exited with ${server.exitCode}:\n${output}`);
      if (Date.now() > deadline) assert.fail(`health check never passed:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      code = await runHealthCheck();
    }
    assert.equal(code, 0);
  });

  it('stops cleanly on SIGTERM (what docker stop sends) and then reports unhealthy (exit 1)', async () => {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, output);
    assert.equal(await runHealthCheck(), 1);
  });
});
