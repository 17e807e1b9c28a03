// The front worker's isolate must never load the libraries whose objects make V8's caches in node's shared code
// polymorphic (docs/design/authz-isolate.md): the layer order alone would let src/front import them. This follows
// every runtime import from src/front (type-only imports load nothing) and lists the packages reached.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../../src/paths.js';

const KEPT_OUT = ['ioredis', 'pg', 'express', 'nodemailer', 'ldapts', '@electric-sql/pglite'];

/** Runtime imports (static, re-exports, side-effect and dynamic); `import type` and `export type` load nothing. */
const RUNTIME_IMPORT =
  /^\s*(?:import|export)(?!\s+type\b)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The packages (not node: built-ins) reached from `entries` through relative runtime imports. */
function packagesReached(entries: readonly string[]): Map<string, string> {
  const reached = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(RUNTIME_IMPORT)) {
      const specifier = (match[1] ?? match[2] ?? match[3])!;
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
        if (existsSync(target)) queue.push(target);
      } else if (!specifier.startsWith('node:')) {
        const name = packageOf(specifier);
        if (!reached.has(name)) reached.set(name, relative(packageRoot, file));
      }
    }
  }
  return reached;
}

describe("the front worker's isolate", () => {
  it('reaches none of the libraries it is kept apart from', () => {
    const dir = join(packageRoot, 'src', 'front');
    const entries = readdirSync(dir)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(dir, name));
    assert.ok(entries.length > 0);
    const reached = packagesReached(entries);
    const offending = KEPT_OUT.filter((name) => reached.has(name)).map((name) => `${name} (from ${reached.get(name)})`);
    assert.deepEqual(offending, []);
  });

  it('the walk does find such a library when one is imported (probe)', () => {
    // src/session/redis-store.ts imports ioredis: walking from it must say so, or the test above proves nothing.
    const reached = packagesReached([join(packageRoot, 'src', 'session', 'redis-store.ts')]);
    assert.ok(reached.has('ioredis'));
  });
});
