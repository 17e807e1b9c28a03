// `npm run test:watch [-- jest options]`: Jest's watch mode over the compiled tests, with `tsc --watch` alongside so
// that a saved .ts file is recompiled into dist/ and Jest re-runs the tests that depend on it.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const tsc = 'node_modules/typescript/bin/tsc';
const jest = 'node_modules/jest/bin/jest.js';

// A first full build, so Jest starts on an up-to-date dist/.
const built = spawnSync(process.execPath, [tsc, '-p', '.'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

// tsc's own messages would scroll Jest's screen away: only its errors are shown.
const compiler = spawn(process.execPath, [tsc, '-p', '.', '--watch', '--preserveWatchOutput'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
createInterface({ input: compiler.stdout }).on('line', (line) => {
  if (/error TS\d+/.test(line)) process.stderr.write(`tsc: ${line}\n`);
});

const args = process.argv.slice(2);
const watchFlag = args.some((a) => a === '--watchAll' || a.startsWith('--watchAll=')) ? [] : ['--watch'];
const runner = spawn(process.execPath, ['--experimental-vm-modules', jest, ...watchFlag, ...args], {
  stdio: 'inherit',
});
runner.on('exit', (code, signal) => {
  compiler.kill();
  process.exit(code ?? (signal ? 1 : 0));
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => runner.kill(sig));
