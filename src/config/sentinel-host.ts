// Authelia reads `session.redis.host` and `port` as a Sentinel's address when `high_availability` is set (port 26379
// unless given). Gatehouse does too when `high_availability.nodes` lists none, so an Authelia configuration that names
// its one Sentinel there keeps working. When nodes are listed they are the Sentinels, and host and port are not used
// (SPEC §3's example pairs the data port 6379 with a listed Sentinel). Applied to the tree before the schema's
// defaults hide whether host and port were written (docs/decisions.md, "Sentinel from session.redis.host").
import { isMap, setOwn, type ConfigTree } from './yaml-files.js';
import type { ConfigProblem } from './problems.js';

/** Authelia's default Sentinel port. */
export const SENTINEL_PORT = 26379;

/**
 * Moves host and port into `high_availability.nodes` when that list is absent or empty; a problem when there is
 * then no Sentinel at all. A host or port of the wrong type is left where it is, for the schema to name.
 */
export function applySentinelHost(tree: ConfigTree): ConfigProblem[] {
  const session = tree.session;
  const redis = isMap(session) ? session.redis : undefined;
  if (!isMap(redis)) return [];
  const sentinel = redis.high_availability;
  if (!isMap(sentinel)) return [];
  const nodes = sentinel.nodes;
  if (nodes !== undefined && !(Array.isArray(nodes) && nodes.length === 0)) return [];
  const { host, port } = redis;
  if (host === undefined) {
    return [
      {
        path: 'session.redis.high_availability.nodes',
        message: `name at least one Sentinel here, or the one Sentinel in session.redis.host (and port, default ${SENTINEL_PORT})`,
      },
    ];
  }
  if (typeof host !== 'string' || host === '' || (port !== undefined && typeof port !== 'number')) return [];
  setOwn(sentinel, 'nodes', [{ host, port: port ?? SENTINEL_PORT }]);
  return [];
}
