// Runs the compiled test files with node's own test runner: `node scripts/test.mjs [substring...]`.
// Unit tests first (fast feedback), then integration and end-to-end tests, one file at a time on these 2-core machines.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const filters = process.argv.slice(2);
const found = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) found.push(path);
  }
};
walk(root);
const order = ['unit', 'integration', 'e2e'];
const rank = (p) => { const i = order.findIndex((o) => p.includes(`/${o}/`)); return i < 0 ? order.length : i; };
const files = found
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', '--enable-source-maps', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
