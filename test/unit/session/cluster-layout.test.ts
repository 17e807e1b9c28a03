// The session cache on a Redis Cluster follows every primary that may hold session keys, read from CLUSTER NODES;
// any change of that view (a failover, slots moved, a primary added) must change its fingerprint, and nothing else.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { clusterLayoutFingerprint, parseClusterPrimaries } from '../../../src/session/cluster-invalidation.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const R = 'r'.repeat(40);
const N = 'n'.repeat(40);

const healthy = [
  `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460`,
  `${B} 127.0.0.1:7001@17001 master - 0 1700000000000 2 connected 5461-10922`,
  `${C} 127.0.0.1:7002@17002 master - 0 1700000000000 3 connected 10923-16383`,
  `${R} 127.0.0.1:7003@17003 slave ${A} 0 1700000000000 1 connected`,
].join('\n');

describe('session cache on a cluster: the primaries to follow (CLUSTER NODES)', () => {
  it('every primary with its address and slots; replicas are not followed (reads go to primaries)', () => {
    assert.deepEqual(parseClusterPrimaries(`${healthy}\n`), [
      { id: A, host: '127.0.0.1', port: 7000, slots: ['0-5460'] },
      { id: B, host: '127.0.0.1', port: 7001, slots: ['5461-10922'] },
      { id: C, host: '127.0.0.1', port: 7002, slots: ['10923-16383'] },
    ]);
  });

  it('a primary serving slots is followed even when flagged failing (its feed is then down: cache off)', () => {
    const reply = healthy.replace('master - 0 1700000000000 2', 'master,fail - 0 1700000000000 2');
    assert.ok(parseClusterPrimaries(reply).some((p) => p.id === B));
  });

  it('a failed primary without slots (replaced by its replica) is not followed; a healthy empty one is', () => {
    const afterFailover = [
      `${A} 127.0.0.1:7000@17000 master,fail - 0 0 1 connected`,
      `${R} 127.0.0.1:7003@17003 myself,master - 0 0 4 connected 0-5460`,
      `${N} 127.0.0.1:7009@17009 master - 0 0 0 connected`,
      `${B} 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922`,
    ].join('\n');
    assert.deepEqual(
      parseClusterPrimaries(afterFailover).map((p) => p.port),
      [7003, 7009, 7001],
    );
  });

  it('slots in migration stay with their owner; IPv6 and announced hostnames are read right', () => {
    const reply = [
      `${A} [::1]:7000@17000 master - 0 0 1 connected 0-5460 [5461->-${B}]`,
      `${B} ::1:7001@17001,redis-1.example master - 0 0 2 connected 5462-10922 6000 [5461-<-${A}]`,
    ].join('\n');
    assert.deepEqual(parseClusterPrimaries(reply), [
      { id: A, host: '::1', port: 7000, slots: ['0-5460'] },
      { id: B, host: '::1', port: 7001, slots: ['5462-10922', '6000'] },
    ]);
  });

  it('the fingerprint changes with a failover, a slot move, or a new primary; not with the order of lines', () => {
    const base = clusterLayoutFingerprint(parseClusterPrimaries(healthy));
    const reordered = healthy.split('\n').reverse().join('\n');
    assert.equal(clusterLayoutFingerprint(parseClusterPrimaries(reordered)), base);
    const failover = healthy
      .replace('myself,master - 0 0 1 connected 0-5460', `myself,slave ${R} 0 0 1 connected`)
      .replace(`slave ${A} 0 1700000000000 1 connected`, 'master - 0 1700000000000 4 connected 0-5460');
    const moved = healthy.replace('0-5460', '0-5459').replace('5461-10922', '5460-10922');
    const added = `${healthy}\n${N} 127.0.0.1:7009@17009 master - 0 0 0 connected`;
    for (const changed of [failover, moved, added])
      assert.notEqual(clusterLayoutFingerprint(parseClusterPrimaries(changed)), base);
    // Only failure flags changing (a node suspected, then cleared) is not a change of layout.
    assert.equal(clusterLayoutFingerprint(parseClusterPrimaries(healthy.replace('master -', 'master,fail? -'))), base);
  });

  it('lines that are not node lines are ignored', () => {
    assert.deepEqual(parseClusterPrimaries(''), []);
    assert.deepEqual(parseClusterPrimaries('garbage\n\n'), []);
  });
});
