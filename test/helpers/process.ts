// Runs the real `gatehouse` binary (the compiled CLI) as a child process, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequestRaw } from 'node:http';
import { createServer } from 'node:net';
import { packageRoot } from '../../src/paths.js';

export const CLI = 'dist/src/cli.js';

/** Ports this process handed out lately: the kernel may offer a just-closed port again before its taker binds it. */
const given: number[] = [];
const GIVEN_KEPT = 256;

function portFromKernel(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A free loopback port, never one this process handed out lately (two calls in a row gave the same port once). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await portFromKernel();
    if (!given.includes(port) || attempt >= 20) {
      given.push(port);
      if (given.length > GIVEN_KEPT) given.shift();
      return port;
    }
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${packageRoot}/${CLI}`, ...args], {
      cwd: options.cwd ?? packageRoot,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `gatehouse serve --config FILE` on the given port; resolves once /api/health answers 200 (`waitFor: 'healthy'`,
 * the default) or answers at all (`'listening'`, for a server expected to fail closed).
 */
export async function startServerProcess(
  configPath: string,
  port: number,
  env: Record<string, string> = {},
  waitFor: 'healthy' | 'listening' = 'healthy',
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [`${packageRoot}/${CLI}`, 'serve', '--config', configPath], {
    cwd: packageRoot,
    env: { PATH: process.env.PATH ?? '', GATEHOUSE_SERVER_ADDRESS: `tcp://127.0.0.1:${port}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Generous: embedded storage (PGlite) starts slowly on a busy 2-core machine; a healthy start is much faster.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gatehouse exited with ${child.exitCode}:\n${output}`);
    try {
      const status = (await fetch(`${url}/api/health`)).status;
      if (status === 200 || waitFor === 'listening') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gatehouse did not become healthy:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface SimpleResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request with full control over headers (fetch refuses to set Host). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequestRaw(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The `name=value` pair of the first Set-Cookie that sets the session cookie. */
export function cookiePair(res: SimpleResponse, name = 'gatehouse_session'): string | undefined {
  const list = res.headers['set-cookie'];
  return (Array.isArray(list) ? list : [])
    .find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`))
    ?.split(';')[0];
}
