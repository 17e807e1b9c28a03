// `npm run bench:instructions` reads callgrind's dumps (bench/callgrind.ts): the total is taken from the dump's own
// totals line, and a dump without one is an error, never a zero.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { callgrindTotal, callgrindWrapper } from '../../../bench/callgrind.js';

describe('callgrind dumps', () => {
  it('reads the totals line, else the summary line', () => {
    assert.equal(
      callgrindTotal('version: 1\nevents: Ir\nsummary: 0\nfn=(1) main\n12 34\n\ntotals: 458742414\n'),
      458742414,
    );
    assert.equal(callgrindTotal('events: Ir\nsummary: 1234\n'), 1234);
  });

  it('refuses a dump with neither', () => {
    assert.throws(() => callgrindTotal('events: Ir\nfn=(1) main\n'), /no totals/);
  });

  it('counts nothing until asked, one file per thread, into the given directory', () => {
    const wrapper = callgrindWrapper('/tmp/x');
    assert.deepEqual(wrapper.slice(0, 2), ['valgrind', '--tool=callgrind']);
    assert.ok(wrapper.includes('--instr-atstart=no'));
    assert.ok(wrapper.includes('--separate-threads=yes'));
    assert.ok(wrapper.includes('--callgrind-out-file=/tmp/x/cg.%p'));
  });
});
