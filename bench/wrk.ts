// wrk (Debian's package `wrk`) as the bench's load generator when the machine has it: a C program in a process of its
// own, so it takes far less of the two cores than autocannon running inside the bench's node process, and the
// servers measured get the rest (the figures of issue 10's own text were taken with wrk). Headers are set, and the
// figures printed as one JSON line, by a Lua script written for each run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadRun {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  rps: number;
  requests: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Answers with a status of 400 or more (wrk's own count). */
  non2xx: number;
  errors: number;
}

/** A Lua string literal; the bench's header values are printable ASCII, anything else is refused. */
function luaString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`header value not printable ASCII: ${JSON.stringify(text)}`);
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nWRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"status_errors":%d,"socket_errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
`;

/** One run of `wrk` against `run.url`; rejects when wrk fails or prints no figures. */
export async function runWrk(binary: string, run: LoadRun): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-wrk-'));
  try {
    const script = join(dir, 'run.lua');
    const headers = Object.entries(run.headers)
      .map(([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`)
      .join('\n');
    writeFileSync(script, `${headers}\n${REPORT}`);
    const args = ['-t1', `-c${run.connections}`, `-d${Math.max(1, Math.round(run.seconds))}s`, '-s', script, run.url];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const line = /^WRK_JSON (.+)$/m.exec(output)?.[1];
    if (line === undefined) throw new Error(`wrk printed no figures: ${output}`);
    const figures = JSON.parse(line) as Record<string, number>;
    const requests = figures.requests!;
    return {
      rps: requests / (figures.duration_us! / 1e6),
      requests,
      p50: figures.p50_us! / 1000,
      p99: figures.p99_us! / 1000,
      non2xx: figures.status_errors!,
      errors: figures.socket_errors!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
