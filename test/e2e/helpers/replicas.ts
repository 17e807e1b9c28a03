// Several `gatehouse serve` processes with one configuration file, for the replica tests (SPEC §9): started one after
// another (each runs the storage migrations at start; the later ones find nothing to do), killed without warning,
// restarted on their own port, and stopped for good whatever became of them.
import { freePort, startServerProcess, type ServerProcess } from '../../helpers/process.js';

export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Its log so far (of the current process: a restart starts a new one). */
  output(): string;
  /** `authz decision` lines in the current process's debug log: which replica nginx asked. */
  authzDecisions(): number;
  /** SIGKILL, as a crash or an OOM kill would end it: no graceful shutdown, connections cut mid-request. */
  kill(): Promise<void>;
  /** A new process on the same port (the port nginx's upstream lists), once healthy. */
  restart(): Promise<void>;
  /** SIGTERM, SIGKILL if it lingers; nothing when it is not running. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;

// Replicas left running by a crashed test would hold their ports and database connections.
const live = new Set<ServerProcess>();
process.once('exit', () => {
  for (const server of live) server.child.kill('SIGKILL');
});

function isRunning(server: ServerProcess): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

async function launch(configPath: string, port: number): Promise<ServerProcess> {
  const server = await startServerProcess(configPath, port);
  live.add(server);
  server.child.once('exit', () => live.delete(server));
  return server;
}

async function terminate(server: ServerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (!isRunning(server)) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill(signal);
  const force = setTimeout(() => server.child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(force);
}

function countDecisions(output: string): number {
  let count = 0;
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      if ((JSON.parse(line) as { msg?: unknown }).msg === 'authz decision') count += 1;
    } catch {
      // not a log line
    }
  }
  return count;
}

async function startReplica(configPath: string, name: string): Promise<Replica> {
  const port = await freePort();
  let current = await launch(configPath, port);
  return {
    name,
    port,
    url: current.url,
    output: () => current.output(),
    authzDecisions: () => countDecisions(current.output()),
    kill: () => terminate(current, 'SIGKILL'),
    async restart() {
      await terminate(current, 'SIGTERM');
      current = await launch(configPath, port);
    },
    stop: () => terminate(current, 'SIGTERM'),
  };
}

/**
 * One replica per name, started in turn. `started` receives each as soon as it runs, so the caller can stop the
 * ones already up when a later one fails to start.
 */
export async function startReplicas(
  configPath: string,
  names: readonly string[],
  started: Replica[],
): Promise<Replica[]> {
  for (const name of names) started.push(await startReplica(configPath, name));
  return started;
}

/** Runs `task(0..total-1)` with at most `concurrency` at once; the results in index order. */
export async function runBounded<T>(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}
