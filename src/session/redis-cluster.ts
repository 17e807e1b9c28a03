// What differs when sessions live in a Redis Cluster (or Valkey Cluster): how the client is set up, and the one
// operation of the SessionStore port that touches several keys (ending every session of a user).
//
// Key layout: every key keeps its single-node name (`<prefix><kind>:<sha256>`), with no hash tag, so sessions,
// locks and challenges spread over all the slots and primaries. Every command Gatehouse sends names one key
// (GET, SET, GETDEL, DEL, ZADD/ZREM, and scripts that declare their one key), except ending a user's sessions: the
// user's index and the sessions it lists are in different slots. That is done here without a cross-slot command,
// in an order that keeps "ending a session always wins" (see `deleteIndexedAcrossSlots`).
import type { Cluster, ClusterOptions } from 'ioredis';
import type { RedisConfig } from './redis-store.js';

/** A command that fails because a node is gone is retried after this long, while the cluster promotes a replica. */
const RETRY_DELAY_MS = 100;
/**
 * Retries of one command (each after RETRY_DELAY_MS) before it fails: bounds the wait of a request during a failover
 * to about a second and a half, after which it is answered 503 like any other store outage.
 */
const MAX_RETRIES = 15;
/**
 * Rounds of `deleteIndexedAcrossSlots` before giving up: each round ends every session listed; only sessions
 * created for the same user while the revocation runs make another round, so this is never reached in practice.
 */
const MAX_REVOKE_ROUNDS = 50;

/** Options of each node's connection (the Cluster client sets host, port and reconnection itself). */
export type NodeOptions = NonNullable<ClusterOptions['redisOptions']>;

export interface ClusterClientSetup {
  nodes: { host: string; port: number }[];
  options: ClusterOptions;
}

/**
 * ioredis Cluster options. `perNode` holds what every node connection shares with the single-node client
 * (credentials, TLS, timeouts); `reconnectDelay` is used while no node at all can be reached.
 */
export function clusterClientSetup(
  config: RedisConfig,
  perNode: NodeOptions,
  reconnectDelay: (attempt: number) => number,
): ClusterClientSetup {
  return {
    nodes: (config.cluster?.nodes ?? []).map((node) => ({ host: node.host, port: node.port })),
    options: {
      redisOptions: perNode,
      // As in single-node mode: a command is never queued for later while no node can take it, it fails now (503).
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnectDelay,
      retryDelayOnFailover: RETRY_DELAY_MS,
      retryDelayOnClusterDown: RETRY_DELAY_MS,
      retryDelayOnTryAgain: RETRY_DELAY_MS,
      maxRedirections: MAX_RETRIES,
      slotsRefreshTimeout: perNode.commandTimeout,
      // Reads go to the primaries: a replica may lag behind a sign-out.
      scaleReads: 'master',
    },
  };
}

/**
 * Deletes every key listed in the set, and empties the set, with single-key commands only; resolves how many of the
 * listed keys still existed.
 *
 * On a single node this is one script; across slots it cannot be. What must hold is the port's promise that a
 * regenerate racing with it loses either way. A regenerate lists the new key (ZADD) and only then takes the old key
 * (GETDEL), and gives up the new session when the old key was already gone. So for each listed key K deleted here:
 * - either this DEL came first: the regenerate finds K gone and removes its new session itself;
 * - or the regenerate's GETDEL came first: then its new key was listed before that, hence before this DEL, hence
 *   before the next round's ZRANGE, which sees it and deletes it.
 * Rounds repeat until the set is empty, so every session listed when this started, and every session renewed from
 * one of them meanwhile, is gone when it resolves. A sign-in completing meanwhile may be ended too (it was listed
 * during the revocation); one completing after it is not.
 */
export async function deleteIndexedAcrossSlots(
  client: Pick<Cluster, 'zrange' | 'zrem' | 'del'>,
  indexKey: string,
): Promise<number> {
  let ended = 0;
  for (let round = 0; round < MAX_REVOKE_ROUNDS; round++) {
    const members = await client.zrange(indexKey, 0, '-1');
    if (members.length === 0) return ended;
    const deleted = await Promise.all(members.map((key) => client.del(key)));
    for (const count of deleted) ended += count;
    // Only the members just deleted: a key listed meanwhile stays for the next round.
    await client.zrem(indexKey, ...members);
  }
  throw new Error('sessions of this user kept being created while they were being ended');
}
