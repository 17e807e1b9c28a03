// SPEC §3 telemetry.metrics and §9: Prometheus text at /metrics on its own address, with authz decisions by
// result and their latency.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { startGatehouse, type TestGatehouse } from '../../helpers/gatehouse.js';
import { authRequest, signIn } from '../../helpers/flows.js';
import { freePort } from '../../helpers/process.js';

describe('Prometheus metrics', () => {
  let t: TestGatehouse;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    t = await startGatehouse({
      sessions: 'memory',
      storage: 'embedded',
      config: { telemetry: { metrics: { enabled: true, address: `tcp://127.0.0.1:${metricsPort}` } } },
    });
  });
  afterAll(async () => t.close());

  it('counts authz decisions by result and records their latency', async () => {
    const cookie = await signIn(t, 'john');
    await authRequest(t, 'https://app.example.com/', { cookie });
    await authRequest(t, 'https://app.example.com/');
    await authRequest(t, 'https://unlisted.example.com/');
    await authRequest(t, 'https://evil.com/');
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /gatehouse_authz_decisions_total\{result="allowed"\} 1/);
    assert.match(text, /gatehouse_authz_decisions_total\{result="sign_in"\} 1/);
    assert.match(text, /gatehouse_authz_decisions_total\{result="forbidden"\} 1/);
    assert.match(text, /gatehouse_authz_decisions_total\{result="bad_request"\} 1/);
    // The latency is recorded (how fast it is is the benchmark's business, not a test's): one observation in the
    // histogram, within the largest bucket, with a positive sum.
    assert.match(text, /gatehouse_authz_duration_seconds_bucket\{le="\+Inf",result="allowed"\} 1/);
    assert.match(text, /gatehouse_authz_duration_seconds_count\{result="allowed"\} 1/);
    assert.match(text, /gatehouse_authz_duration_seconds_sum\{result="allowed"\} (?!0\n)\d/);
    assert.match(text, /gatehouse_process_cpu_seconds_total/);
  });

  it('serves nothing else on the metrics address', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/api/health`)).status, 404);
  });
});
