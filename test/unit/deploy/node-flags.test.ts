// Issue 10: node's flags (src/node-flags.ts) are the same in every way Gatehouse ships to start it, so that what the
// bench measures (it starts Gatehouse with them) is what an operator runs.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { RUNTIME_HEAP_FLAGS, SHIPPED_NODE_FLAGS } from '../../../src/node-flags.js';
import { dockerfileInstructions, readRepoFile } from './deploy-files.js';

/** The words between `node` and the script it runs, in a command line split on spaces. */
function flagsBefore(script: string, words: readonly string[]): string[] {
  const node = words.findIndex((word) => word === 'node' || word.endsWith('/node'));
  const at = words.indexOf(script);
  assert.ok(node >= 0 && at > node, `node … ${script} in: ${words.join(' ')}`);
  return words.slice(node + 1, at);
}

describe('node is started with the shipped flags everywhere', () => {
  it('npm start', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> };
    const run = pkg.scripts.start!.split('&&').at(-1)!.trim().split(/\s+/);
    assert.deepEqual(flagsBefore('dist/src/cli.js', run), SHIPPED_NODE_FLAGS);
  });

  it("the gatehouse command's #! line stays plain (env -S is not everywhere: NODE_OPTIONS is the operator's way)", () => {
    assert.equal(readRepoFile('src', 'cli.ts').split('\n')[0], '#!/usr/bin/env node');
  });

  it("the Docker image's entry point", () => {
    const entry = dockerfileInstructions(readRepoFile('Dockerfile')).filter((i) => i.name === 'ENTRYPOINT');
    assert.equal(entry.length, 1);
    const words = JSON.parse(entry[0]!.args) as string[];
    assert.deepEqual(flagsBefore('dist/src/cli.js', words), SHIPPED_NODE_FLAGS);
  });

  it('the systemd unit', () => {
    const exec = readRepoFile('deploy', 'systemd', 'gatehouse.service')
      .split('\n')
      .find((line) => line.startsWith('ExecStart='));
    assert.ok(exec);
    const words = exec.slice('ExecStart='.length).split(/\s+/);
    assert.deepEqual(flagsBefore('/opt/gatehouse/dist/src/cli.js', words), SHIPPED_NODE_FLAGS);
  });
});

describe('this node knows every flag', () => {
  it('on the command line', () => {
    const run = spawnSync(process.execPath, [...SHIPPED_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
  });

  it('set at run time (V8 says "unrecognized flag" on standard error otherwise)', () => {
    for (const flag of RUNTIME_HEAP_FLAGS) {
      const script = `require('node:v8').setFlagsFromString(${JSON.stringify(flag)})`;
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr, '', `${flag}: ${run.stderr}`);
    }
  });
});
