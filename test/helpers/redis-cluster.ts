// A throw-away Redis Cluster on loopback ports for tests: three primaries with one replica each, six `redis-server
// --cluster-enabled yes` processes in a temporary directory joined by `redis-cli --cluster create`. The node timeout
// is short so a killed primary's replica takes over in a few seconds. `stop` kills them all and removes the files.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from './process.js';
import {
  HOST,
  infoField as field,
  type RedisProcess as NodeProcess,
  startRedisServer,
  stopRedisServer as stopNode,
  until,
  withRedisAt as withNode,
} from './redis-server.js';

const PRIMARIES = 3;
const REPLICAS_PER_PRIMARY = 1;
/** A node silent this long is flagged failing; its replica then stands for election. Short so a test is quick. */
const NODE_TIMEOUT_MS = 1000;

/** One line of CLUSTER NODES, the parts tests need. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  primary: boolean;
  failed: boolean;
  /** For a replica, the ID of its primary. */
  primaryId: string | undefined;
  /** Slot ranges a primary serves, as `start-end` or `slot`. */
  slots: string[];
}

export interface RedisClusterUnderTest {
  /** Every node, as `session.redis.cluster.nodes` wants them (the client finds the rest from any one). */
  nodes: { host: string; port: number }[];
  /** The cluster's view from a node that still answers. */
  clusterNodes(): Promise<ClusterNodeInfo[]>;
  /** The port of the primary serving `key`. */
  primaryPortOf(key: string): Promise<number>;
  /** Resolves once every replica holds every write its primary has acknowledged so far. */
  waitForReplication(timeoutMs?: number): Promise<void>;
  /** Runs `use` with a plain connection to one node. */
  withNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T>;
  /** SIGKILL to the primary on `port`: it vanishes without a goodbye, as a crashed host would. */
  killPrimary(port: number): Promise<void>;
  /** Starts one more node and joins it as a primary without slots; resolves with its port once every node knows it. */
  addPrimary(): Promise<number>;
  /** Moves empty slots (no key in them) from their owner to the primary `toPort`; resolves with how many moved. */
  moveEmptySlots(fromPort: number, toPort: number, count: number): Promise<number>;
  /** Resolves with the port of the replica promoted in place of the killed primary, once the cluster is ok again. */
  waitForFailover(killedPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** CLUSTER NODES: `<id> <ip:port@bus> <flags> <primary|-> <ping> <pong> <epoch> <link> <slot>...` per line. */
export function parseClusterNodes(reply: string): ClusterNodeInfo[] {
  return reply
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slots] = line.trim().split(' ');
      const flagList = flags!.split(',');
      return {
        id: id!,
        port: Number(address!.split('@')[0]!.split(':').at(-1)),
        primary: flagList.includes('master'),
        failed: flagList.includes('fail'),
        primaryId: primaryId === '-' ? undefined : primaryId,
        slots: slots.filter((slot) => !slot.startsWith('[')),
      };
    });
}

async function startNode(dir: string): Promise<NodeProcess & { busPort: number }> {
  const port = await freePort();
  // The cluster bus defaults to port + 10000, which may be taken or past 65535: name a free one.
  const busPort = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--cluster-enabled',
    'yes',
    '--cluster-port',
    String(busPort),
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  return { ...(await startRedisServer(args, port)), busPort };
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

export async function startRedisCluster(): Promise<RedisClusterUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  const started: NodeProcess[] = [];
  const stopAll = async () => {
    await Promise.all(started.map(stopNode));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < PRIMARIES * (1 + REPLICAS_PER_PRIMARY); i++) started.push(await startNode(dir));
    const created = await run('redis-cli', [
      '--cluster',
      'create',
      ...started.map((node) => `${HOST}:${node.port}`),
      '--cluster-replicas',
      String(REPLICAS_PER_PRIMARY),
      '--cluster-yes',
    ]);
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);

    const alive = () => started.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    const clusterNodes = async (): Promise<ClusterNodeInfo[]> => {
      let lastError: unknown;
      for (const node of alive()) {
        try {
          return parseClusterNodes(String(await withNode(node.port, (r) => r.call('CLUSTER', 'NODES'))));
        } catch (error) {
          lastError = error;
        }
      }
      throw new Error(`no cluster node answers: ${String(lastError)}`);
    };
    /** Every live node says the cluster is ok and knows every node; every replica is linked to its primary. */
    const settled = async (): Promise<true | undefined> => {
      for (const node of alive()) {
        const info = String(await withNode(node.port, (r) => r.call('CLUSTER', 'INFO')));
        if (field(info, 'cluster_state') !== 'ok' || field(info, 'cluster_known_nodes') !== String(started.length))
          return undefined;
        const replication = await withNode(node.port, (r) => r.info('replication'));
        if (field(replication, 'role') === 'slave' && field(replication, 'master_link_status') !== 'up')
          return undefined;
      }
      return true;
    };
    await until('the cluster is ok on every node, replicas linked', 30_000, settled);
    /** The replicas of each killed primary (by its port), which may be promoted in its place. */
    const heirs = new Map<number, string[]>();

    return {
      nodes: started.map((node) => ({ host: HOST, port: node.port })),
      clusterNodes,
      async primaryPortOf(key) {
        const slot = Number(await withNode(alive()[0]!.port, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
        const owner = (await clusterNodes()).find(
          (node) =>
            node.primary &&
            !node.failed &&
            node.slots.some((range) => {
              const [start, end] = range.split('-').map(Number);
              return slot >= start! && slot <= (end ?? start)!;
            }),
        );
        if (owner === undefined) throw new Error(`no primary serves slot ${slot}`);
        return owner.port;
      },
      async waitForReplication(timeoutMs = 5000) {
        const view = await clusterNodes();
        for (const primary of view.filter((node) => node.primary && !node.failed)) {
          const offset = Number(
            field(await withNode(primary.port, (r) => r.info('replication')), 'master_repl_offset'),
          );
          for (const replica of view.filter((node) => node.primaryId === primary.id && !node.failed)) {
            await until(`replica ${replica.port} caught up with ${primary.port}`, timeoutMs, async () => {
              const info = await withNode(replica.port, (r) => r.info('replication'));
              return Number(field(info, 'slave_repl_offset')) >= offset ? true : undefined;
            });
          }
        }
      },
      withNode,
      async addPrimary() {
        const node = await startNode(dir);
        started.push(node);
        await withNode(alive()[0]!.port, (r) =>
          // The bus port is named: it is not the default port + 10000 here.
          r.call('CLUSTER', 'MEET', HOST, String(node.port), String(node.busPort)),
        );
        await until(`node ${node.port} joined`, 30_000, settled);
        return node.port;
      },
      async moveEmptySlots(fromPort, toPort, count) {
        const view = await clusterNodes();
        const from = view.find((node) => node.port === fromPort && node.primary)!;
        const to = view.find((node) => node.port === toPort && node.primary)!;
        let moved = 0;
        await withNode(fromPort, (source) =>
          withNode(toPort, async (target) => {
            for (const range of from.slots) {
              const [start, end] = range.split('-').map(Number);
              for (let slot = start!; slot <= (end ?? start)! && moved < count; slot++) {
                if (Number(await source.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot))) > 0) continue;
                // The documented steps of a slot move; with no key to migrate, the last one ends it.
                await target.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
                await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
                await target.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
                await source.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
                moved++;
              }
            }
          }),
        );
        return moved;
      },
      async killPrimary(port) {
        const view = await clusterNodes();
        const primary = view.find((node) => node.port === port && node.primary);
        if (primary === undefined) throw new Error(`no primary on ${port}`);
        heirs.set(
          port,
          view.filter((node) => node.primaryId === primary.id).map((node) => node.id),
        );
        started.find((node) => node.port === port)!.child.kill('SIGKILL');
      },
      async waitForFailover(killedPort, timeoutMs = 30_000) {
        const candidates = heirs.get(killedPort) ?? [];
        return until(`a replica replaces the primary on ${killedPort}`, timeoutMs, async () => {
          const promoted = (await clusterNodes()).find(
            (node) => candidates.includes(node.id) && node.primary && node.slots.length > 0,
          );
          if (promoted === undefined) return undefined;
          for (const node of alive()) {
            const info = String(await withNode(node.port, (r) => r.call('CLUSTER', 'INFO')));
            if (field(info, 'cluster_state') !== 'ok') return undefined;
          }
          return promoted.port;
        });
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
