// The front worker's watchdog (src/front/watchdog.ts): a worker that answers its pings is never taken for hung, not
// even after the main thread itself was blocked for far longer than the limit; one that stops answering is reported
// once, after the limit and not before.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { startWatchdog } from '../../../src/front/watchdog.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe("the front worker's watchdog", () => {
  it('answered pings keep it quiet, even across a block of the main thread longer than the limit', async () => {
    const hung: number[] = [];
    let pings = 0;
    const watchdog = startWatchdog({
      everyMs: 10,
      hungAfterMs: 50,
      // The answer comes as a port's message would: in a later phase of the loop, after the timers.
      ping: () => {
        pings++;
        setImmediate(() => watchdog.pong());
      },
      onHung: (ms) => hung.push(ms),
    });
    try {
      await sleep(100);
      block(300);
      await sleep(100);
      assert.deepEqual(hung, []);
      assert.ok(pings >= 5, `${pings} pings`);
    } finally {
      watchdog.stop();
    }
  });

  it('pings left unanswered for the limit: reported once, with how long, and no more pings', async () => {
    const hung: number[] = [];
    let pings = 0;
    let answering = true;
    const watchdog = startWatchdog({
      everyMs: 10,
      hungAfterMs: 50,
      ping: () => {
        pings++;
        if (answering) setImmediate(() => watchdog.pong());
      },
      onHung: (ms) => hung.push(ms),
    });
    try {
      await sleep(60);
      assert.deepEqual(hung, []);
      answering = false;
      const stoppedAt = Date.now();
      while (hung.length === 0 && Date.now() - stoppedAt < 2_000) await sleep(5);
      assert.ok(Date.now() - stoppedAt >= 45, 'not before the limit');
      assert.deepEqual(hung, [50]);
      const after = pings;
      await sleep(60);
      assert.equal(pings, after, 'stopped once it reported');
      assert.equal(hung.length, 1);
    } finally {
      watchdog.stop();
    }
  });
});
