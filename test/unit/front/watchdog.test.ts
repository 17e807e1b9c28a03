// The front worker's watchdog (src/front/watchdog.ts): a worker that answers its pings is never taken for hung, not
// even after the main thread itself was blocked for far longer than the limit; one that stops answering is reported
// once, after the limit and not before; and nothing is counted before the worker's first answer (it may still be
// loading). The answers come back through a real MessageChannel, read as a worker's are: after the timers.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { startWatchdog } from '../../../src/front/watchdog.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/** A worker stand-in on a real port: it answers each ping while `answering`, its pong read after the timers run. */
function setUp(everyMs: number, hungAfterMs: number) {
  const { port1: mainSide, port2: workerSide } = new MessageChannel();
  const state = { answering: true, pings: 0, hung: [] as number[], blockAfterPing: 0 };
  workerSide.on('message', () => {
    if (state.answering) workerSide.postMessage('pong');
  });
  const watchdog = startWatchdog({
    everyMs,
    hungAfterMs,
    ping: () => {
      state.pings++;
      mainSide.postMessage('ping');
      // The main thread blocked right after a ping: its next tick runs before the pong waiting on the port is read.
      if (state.blockAfterPing > 0) {
        block(state.blockAfterPing);
        state.blockAfterPing = 0;
      }
    },
    onHung: (ms) => state.hung.push(ms),
  });
  mainSide.on('message', () => watchdog.pong());
  return {
    state,
    stop() {
      watchdog.stop();
      mainSide.close();
      workerSide.close();
    },
  };
}

describe("the front worker's watchdog", () => {
  it('answered pings keep it quiet, even across blocks of the main thread longer than the limit', async () => {
    // The smallest limit: a single late tick must still not count as a worker's silence.
    const { state, stop } = setUp(10, 10);
    try {
      await sleep(50);
      for (let i = 0; i < 5; i++) {
        state.blockAfterPing = 100;
        await sleep(30);
      }
      assert.deepEqual(state.hung, []);
      assert.ok(state.pings >= 5, `${state.pings} pings`);
    } finally {
      stop();
    }
  });

  it('pings left unanswered for the limit: reported once, with how long, and no more pings', async () => {
    const { state, stop } = setUp(10, 50);
    try {
      await sleep(60);
      assert.deepEqual(state.hung, []);
      state.answering = false;
      const stoppedAt = Date.now();
      while (state.hung.length === 0 && Date.now() - stoppedAt < 2_000) await sleep(5);
      assert.ok(Date.now() - stoppedAt >= 40, 'not before the limit');
      assert.deepEqual(state.hung, [50]);
      const after = state.pings;
      await sleep(60);
      assert.equal(state.pings, after, 'stopped once it reported');
      assert.equal(state.hung.length, 1);
    } finally {
      stop();
    }
  });

  it('nothing is counted before the first answer: a worker still loading is not hung', async () => {
    const { state, stop } = setUp(10, 20);
    state.answering = false;
    try {
      await sleep(150);
      assert.deepEqual(state.hung, []);
      state.answering = true;
      await sleep(40);
      state.answering = false;
      const stoppedAt = Date.now();
      while (state.hung.length === 0 && Date.now() - stoppedAt < 2_000) await sleep(5);
      assert.equal(state.hung.length, 1, 'once it has answered, its silence counts');
    } finally {
      stop();
    }
  });
});
