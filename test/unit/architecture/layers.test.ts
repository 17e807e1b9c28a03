// Issue 9: folder imports run one way. Each folder of src/ (and the page templates in views/) has a layer; a module
// may import from its own folder or from a lower layer, never from a higher one or a sibling that imports it back.
// The order is the one DEVELOPERS.md describes; when a new folder appears, this test asks for its place.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../../src/paths.js';

/** Lowest first. Folders on one line are siblings: they may import each other, never in a cycle. */
const LAYERS: readonly (readonly string[])[] = [
  ['src/text', 'src/paths.ts', 'src/node-flags.ts'],
  ['src/config'],
  ['src/observability'],
  ['src/storage', 'src/session', 'src/users', 'src/regulation', 'src/notify'],
  ['src/authz'],
  ['src/web'],
  ['src/identity', 'src/webauthn', 'views'],
  ['src/portal'],
  ['src/http', 'src/cli', 'src/front'],
  ['src/main.ts', 'src/cli.ts'],
];

const rank = new Map<string, number>(LAYERS.flatMap((names, i) => names.map((name) => [name, i] as const)));

/** The unit a file belongs to: its folder under src/ (or views/), or the root file itself. */
function unitOf(file: string): string {
  const parts = relative(packageRoot, file).split('/');
  if (parts[0] === 'views') return 'views';
  return parts.length === 2 ? parts.join('/') : `${parts[0]}/${parts[1]}`;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'|^\s*import\s+'(\.{1,2}\/[^']+)'/gm;

interface Edge {
  from: string;
  to: string;
  file: string;
}

function importEdges(): Edge[] {
  const files = [...sourceFiles(join(packageRoot, 'src')), ...sourceFiles(join(packageRoot, 'views'))];
  const edges: Edge[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), (match[1] ?? match[2])!.replace(/\.js$/, '.ts'));
      const from = unitOf(file);
      const to = unitOf(target);
      if (from !== to) edges.push({ from, to, file: relative(packageRoot, file) });
    }
  }
  return edges;
}

describe('issue 9: imports run one way', () => {
  const edges = importEdges();

  it('every folder has a layer', () => {
    const unknown = [...new Set(edges.flatMap((e) => [e.from, e.to]).filter((unit) => !rank.has(unit)))];
    assert.deepEqual(unknown, [], 'give these folders a place in LAYERS (and in DEVELOPERS.md)');
  });

  it('no module imports from a higher layer', () => {
    const upward = edges
      .filter((e) => rank.has(e.from) && rank.has(e.to) && rank.get(e.to)! > rank.get(e.from)!)
      .map((e) => `${e.file} imports ${e.to}`);
    assert.deepEqual([...new Set(upward)], []);
  });

  it('no cycle between folders, even among siblings of one layer', () => {
    const next = new Map<string, Set<string>>();
    for (const e of edges) next.set(e.from, (next.get(e.from) ?? new Set()).add(e.to));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (unit: string, path: string[]): void => {
      if (state.get(unit) === 'done') return;
      if (state.get(unit) === 'open') {
        cycles.push([...path.slice(path.indexOf(unit)), unit].join(' -> '));
        return;
      }
      state.set(unit, 'open');
      for (const to of next.get(unit) ?? []) visit(to, [...path, unit]);
      state.set(unit, 'done');
    };
    for (const unit of next.keys()) visit(unit, []);
    assert.deepEqual(cycles, []);
  });

  it('reads the imports it judges (a probe of known edges)', () => {
    const pairs = new Set(edges.map((e) => `${e.from} -> ${e.to}`));
    for (const known of ['src/portal -> src/web', 'src/authz -> src/config', 'src/main.ts -> src/http']) {
      assert.ok(pairs.has(known), known);
    }
  });
});
