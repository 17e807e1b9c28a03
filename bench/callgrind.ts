// Counting a server's instructions with valgrind's callgrind (instructions.ts): run it under `callgrindWrapper`, then
// `countInstructions` switches counting on around the work to be measured and reads the main thread's total.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** valgrind's command line: counting off until asked, one dump file per thread, dumps in `dir`. */
export function callgrindWrapper(dir: string): string[] {
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    '--separate-threads=yes',
    `--callgrind-out-file=${join(dir, 'cg.%p')}`,
  ];
}

/** The total instruction count in a callgrind dump (`totals:`, or `summary:` when there is none). */
export function callgrindTotal(dump: string): number {
  const totals = /^totals:\s+(\d+)/m.exec(dump) ?? /^summary:\s+(\d+)/m.exec(dump);
  if (!totals) throw new Error('no totals in the callgrind dump');
  return Number(totals[1]);
}

/** Instructions the main thread of `pid` (under `callgrindWrapper(dir)`) runs while `work` runs. */
export async function countInstructions(pid: number, dir: string, work: () => Promise<void>): Promise<number> {
  const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
  control('--zero');
  control('--instr=on');
  await work();
  control('--instr=off');
  control('--dump=measured');
  // The newest dump (cg.<pid>.<dump number>-<thread>) of thread 1, the main thread (JavaScript, node:http); the
  // other threads are V8's and libuv's helpers.
  const dumps = readdirSync(dir).flatMap((name) => {
    const match = /^cg\.(\d+)\.(\d+)-01$/.exec(name);
    return match && Number(match[1]) === pid ? [{ name, number: Number(match[2]) }] : [];
  });
  if (dumps.length === 0) throw new Error(`no callgrind dump of process ${pid} in ${dir}`);
  const newest = dumps.reduce((a, b) => (b.number > a.number ? b : a));
  return callgrindTotal(readFileSync(join(dir, newest.name), 'utf8'));
}
