// Jest's test order: unit tests first (fast feedback), then integration, then end-to-end; by path within each.
const order = ['unit', 'integration', 'e2e'];
const rank = (path) => {
  const i = order.findIndex((o) => path.includes(`/test/${o}/`));
  return i < 0 ? order.length : i;
};

export default class UnitFirstSequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }

  shard(tests, { shardIndex, shardCount }) {
    const size = Math.ceil(tests.length / shardCount);
    return tests.slice(size * (shardIndex - 1), size * shardIndex);
  }

  cacheResults() {}
}
