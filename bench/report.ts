// The one table `npm run bench` prints: a row per measured run, then the goals, each with its figure and
// whether it is met. Figures only: nothing here fails the run (CI asserts correctness, people read speed).
import type { Figures } from './load.js';

export interface Row {
  name: string;
  /** The figures, or why there are none (e.g. "n/a (nginx not installed)"). */
  figures: Figures | string;
}

export interface Goal {
  name: string;
  /** The measured value as printed, or undefined when a figure it needs is missing. */
  value: string | undefined;
  target: string;
  met: boolean | undefined;
}

const COLUMNS = [
  ['req/s', 8],
  ['p50 ms', 6],
  ['p99 ms', 6],
  ['CPU µs/req', 10],
  ['Redis cmd/req', 13],
  ['RSS MB', 6],
] as const;

const NAME_WIDTH = 47;

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function cells(f: Figures): string[] {
  return [
    fixed(f.rps, 0),
    fixed(f.p50, 0),
    fixed(f.p99, 0),
    fixed(f.cpuUsPerRequest, 1),
    fixed(f.redisCommandsPerRequest, 3),
    fixed(f.maxRssBytes / 2 ** 20, 0),
  ];
}

function notes(f: Figures): string {
  const parts: string[] = [];
  if (Number.isFinite(f.proxyCpuUsPerRequest)) parts.push(`nginx ${f.proxyCpuUsPerRequest.toFixed(1)} µs/req`);
  // Near 0 when nginx reuses its upstream connections, near 1 when it opens one per request.
  if (Number.isFinite(f.upstreamTimeWait))
    parts.push(`${(f.upstreamTimeWait / f.requests).toFixed(2)} upstream conns closed/req`);
  if (f.non2xx) parts.push(`non-2xx ${f.non2xx}`);
  if (f.errors) parts.push(`errors ${f.errors}`);
  return parts.join(', ');
}

export function renderTable(title: string, rows: readonly Row[], goals: readonly Goal[], footer: readonly string[]) {
  const header = `${'run'.padEnd(NAME_WIDTH)} ${COLUMNS.map(([name, width]) => name.padStart(width)).join('  ')}  notes`;
  const rule = '-'.repeat(header.length + 20);
  const lines = [title, rule, header, rule];
  for (const row of rows) {
    if (typeof row.figures === 'string') {
      lines.push(`${row.name.padEnd(NAME_WIDTH)} ${row.figures}`);
      continue;
    }
    const values = cells(row.figures).map((value, i) => value.padStart(COLUMNS[i]![1]));
    lines.push(`${row.name.padEnd(NAME_WIDTH)} ${values.join('  ')}  ${notes(row.figures)}`.trimEnd());
  }
  lines.push(
    rule,
    `${'goal (issue 10)'.padEnd(NAME_WIDTH)} ${'measured'.padStart(10)}  ${'target'.padEnd(12)} verdict`,
  );
  lines.push(rule);
  for (const goal of goals) {
    const verdict = goal.met === undefined ? 'n/a' : goal.met ? 'met' : 'NOT MET';
    lines.push(
      `${goal.name.padEnd(NAME_WIDTH)} ${(goal.value ?? 'n/a').padStart(10)}  ${goal.target.padEnd(12)} ${verdict}`,
    );
  }
  lines.push(rule, ...footer);
  return lines.join('\n');
}

/** A goal on a ratio `value` that must be at most (`atMost`) or at least the target. */
export function ratioGoal(name: string, value: number | undefined, target: number, atMost: boolean, unit: string) {
  const known = value !== undefined && Number.isFinite(value);
  const shown = (v: number) => (unit === '%' ? `${(v * 100).toFixed(1)}%` : `${v.toFixed(2)}${unit}`);
  return {
    name,
    value: known ? shown(value) : undefined,
    target: `${atMost ? '<=' : '>='} ${shown(target)}`,
    met: known ? (atMost ? value <= target : value >= target) : undefined,
  } satisfies Goal;
}
