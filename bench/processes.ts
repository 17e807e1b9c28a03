// The bench's child processes (Gatehouse, the bare servers, redis-server, nginx): start, wait, stop, and what Linux
// says about them in /proc (CPU time, resident memory, worker processes, sockets).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../src/paths.js';

// Children left by a crashed bench would hold their ports: kill whatever is still ours when this process ends.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything it wrote, for the message when it fails. */
  output(): string;
  stop(): Promise<void>;
}

/** Runs `command` in the package root, with its output kept (for failure messages), not printed. */
export function startChild(command: string, args: readonly string[], env: Record<string, string> = {}): Child {
  const child = spawn(command, [...args], {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const keep = (data: Buffer) => {
    output = (output + data.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('error', (error) => (output += `\n${command}: ${error.message}`));
  return {
    process: child,
    get pid() {
      return child.pid ?? -1;
    },
    output: () => output,
    stop: () => stopChild(child),
  };
}

/**
 * Node with `nodeArgs` (e.g. --cpu-prof) running `script` with `args`; under `wrapper` (a command and its arguments,
 * e.g. valgrind) when given, which then has node's process ID.
 */
export function startNode(
  nodeArgs: readonly string[],
  script: string,
  args: readonly string[],
  env: Record<string, string> = {},
  wrapper: readonly string[] = [],
): Child {
  const node = [process.execPath, ...nodeArgs, script, ...args];
  return wrapper.length === 0
    ? startChild(node[0]!, node.slice(1), env)
    : startChild(wrapper[0]!, [...wrapper.slice(1), ...node], env);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(force);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** How long a child started under `wrapper` (startNode) is given to come up: valgrind runs node about 50x slower. */
export function startTimeoutMs(wrapper: readonly string[] = []): number {
  return wrapper.length === 0 ? 30_000 : 180_000;
}

/** Polls `ready` until it resolves true, the child exits, or `timeoutMs` (30 s) pass. */
export async function waitUntil(
  what: string,
  child: Child,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null)
      throw new Error(`${what} exited early:\n${child.output()}`);
    try {
      if (await ready()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`${what} did not come up within ${timeoutMs / 1000} s:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The executable `name` on PATH (or in /usr/sbin, where Debian puts nginx), if there is one. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces), or undefined when it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The kernel's clock ticks per second for /proc CPU times: 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) the process has used so far; NaN when /proc cannot say (not Linux). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return Number.NaN;
  // After the name: state(0) ppid(1) ... utime(11) stime(12).
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The processes whose parent is `pid` (nginx's workers under its master). */
export function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (statFields(Number(name))?.[1] === String(pid)) pids.push(Number(name));
  }
  return pids;
}

/** Resident memory in bytes (VmRSS), or NaN. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const TIME_WAIT = '06';

/**
 * TCP sockets in TIME_WAIT on either end of `port` (IPv4, /proc/net/tcp): each is a connection closed in the last
 * minute, so the count after a run shows whether a proxy reused its upstream connections or opened one per request.
 */
export function timeWaitSockets(port: number): number {
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return Number.NaN;
  }
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of text.split('\n').slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (state === TIME_WAIT && (local?.endsWith(`:${hex}`) || remote?.endsWith(`:${hex}`))) count++;
  }
  return count;
}
