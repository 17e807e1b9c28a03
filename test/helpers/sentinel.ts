// A throw-away Redis Sentinel deployment on loopback ports for tests: one primary, one replica and three
// sentinels, all started from Debian's `redis-server` binary (`--sentinel` runs it as a sentinel). Timings are
// short so a failover completes in a few seconds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.js';
import {
  HOST,
  infoField,
  type RedisProcess,
  startRedisServer as startRedis,
  stopRedisServer as stopProcess,
  until,
  withRedisAt as withClient,
} from './redis-server.js';

export const MASTER_NAME = 'mymaster';
const QUORUM = 2;
const SENTINELS = 3;
/** A primary silent this long is subjectively down; short so the test is quick. */
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 5000;

export interface SentinelCluster {
  primaryPort: number;
  replicaPort: number;
  /** The sentinels, as `session.redis.high_availability.nodes` wants them. */
  nodes: { host: string; port: number }[];
  /** The primary's address as the first answering sentinel reports it. */
  reportedPrimaryPort(): Promise<number | undefined>;
  /** Resolves once the replica holds every write the primary has acknowledged so far. */
  waitForReplication(timeoutMs?: number): Promise<void>;
  /** The keys the replica holds under `prefix`. */
  replicaKeys(prefix: string): Promise<string[]>;
  /** SIGKILL: the primary vanishes without a goodbye, as a crashed host would. */
  killPrimary(): void;
  /** Resolves with the new primary's port once the sentinels report the replica promoted. */
  waitForFailover(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** SENTINEL MASTER's flat [name, value, ...] reply as a map. */
function pairs(reply: unknown): Map<string, string> {
  const list = Array.isArray(reply) ? (reply as string[]) : [];
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(list[i]!, list[i + 1]!);
  return map;
}

export async function startSentinelCluster(): Promise<SentinelCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sentinel-'));
  const started: RedisProcess[] = [];
  try {
    const dataNode = (port: number, extra: string[] = []) =>
      startRedis(
        ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
        port,
      );
    const primary = await dataNode(await freePort());
    started.push(primary);
    const replica = await dataNode(await freePort(), ['--replicaof', HOST, String(primary.port)]);
    started.push(replica);
    // The sentinels learn about the replica from the primary's INFO: start them once the link is up.
    await until('replica linked to the primary', 10_000, async () =>
      infoField(await withClient(replica.port, (r) => r.info('replication')), 'master_link_status') === 'up'
        ? true
        : undefined,
    );

    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < SENTINELS; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${i}.conf`);
      // A sentinel rewrites its configuration file (known peers, epochs), so each gets its own writable copy.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} ${HOST} ${primary.port} ${QUORUM}`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const sentinel = await startRedis([conf, '--sentinel'], port);
      sentinels.push(sentinel);
      started.push(sentinel);
    }
    // A failover needs a majority of sentinels that know each other (hello messages, every 2 s) and the replica.
    for (const sentinel of sentinels) {
      await until(`sentinel ${sentinel.port} sees its peers and the replica`, 15_000, async () => {
        const master = pairs(await withClient(sentinel.port, (r) => r.call('SENTINEL', 'MASTER', MASTER_NAME)));
        return master.get('num-other-sentinels') === String(SENTINELS - 1) && master.get('num-slaves') === '1'
          ? true
          : undefined;
      });
    }

    const reportedPrimaryPort = async (): Promise<number | undefined> => {
      for (const sentinel of sentinels) {
        try {
          const reply = await withClient(sentinel.port, (r) =>
            r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME),
          );
          if (Array.isArray(reply) && reply.length === 2) return Number(reply[1]);
        } catch {
          // try the next sentinel
        }
      }
      return undefined;
    };

    return {
      primaryPort: primary.port,
      replicaPort: replica.port,
      nodes: sentinels.map((s) => ({ host: HOST, port: s.port })),
      reportedPrimaryPort,
      async waitForReplication(timeoutMs = 5000) {
        const primaryOffset = Number(
          infoField(await withClient(primary.port, (r) => r.info('replication')), 'master_repl_offset'),
        );
        await until('replica caught up with the primary', timeoutMs, async () => {
          const replicaOffset = Number(
            infoField(await withClient(replica.port, (r) => r.info('replication')), 'slave_repl_offset'),
          );
          return replicaOffset >= primaryOffset ? true : undefined;
        });
      },
      replicaKeys: (prefix) => withClient(replica.port, (r) => r.keys(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`)),
      killPrimary() {
        primary.child.kill('SIGKILL');
      },
      waitForFailover: (timeoutMs = 20_000) =>
        until('sentinels promote the replica', timeoutMs, async () => {
          const port = await reportedPrimaryPort();
          if (port !== replica.port) return undefined;
          // Reported first, promoted a moment later: wait until the replica really answers as a primary.
          const role = infoField(await withClient(replica.port, (r) => r.info('replication')), 'role');
          return role === 'master' ? port : undefined;
        }),
      async stop() {
        await Promise.all(started.map(stopProcess));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map(stopProcess));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
