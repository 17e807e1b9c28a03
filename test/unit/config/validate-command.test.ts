import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { validateConfigCommand } from '../../../src/cli/load-config.js';
import { fixture, tempFile, withMinimal } from './config-files.js';

describe('gatehouse validate-config', () => {
  it('a valid configuration prints "Configuration is valid" and exits 0', () => {
    const result = validateConfigCommand([fixture('full.yml')], {});
    assert.deepEqual(result, { exitCode: 0, output: 'Configuration is valid' });
  });

  it('warnings follow, each prefixed "warning: "', () => {
    const result = validateConfigCommand([fixture('authelia.yml')], {});
    assert.equal(result.exitCode, 0);
    const [first, ...rest] = result.output.split('\n');
    assert.equal(first, 'Configuration is valid');
    assert.ok(rest.length > 0);
    assert.ok(rest.every((line) => line.startsWith('warning: ')));
    assert.ok(
      rest.some(
        (line) =>
          line.startsWith("warning: key 'totp' is an Authelia option Gatehouse does not support; it is ignored: ") &&
          line.includes('security key'),
      ),
    );
  });

  it('an invalid configuration prints every problem as "path: reason" and exits 1', () => {
    const file = tempFile(withMinimal({ log: { level: 'loud' }, server: { prot: 1 } }));
    const result = validateConfigCommand([file], {});
    assert.equal(result.exitCode, 1);
    assert.deepEqual(result.output.split('\n').sort(), [
      'log.level: must be one of: trace, debug, info, warn, error',
      'server.prot: is not a configuration key Gatehouse knows',
    ]);
  });

  it('a missing file exits 1 naming it', () => {
    const result = validateConfigCommand(['/nonexistent/configuration.yml'], {});
    assert.deepEqual(result, { exitCode: 1, output: '/nonexistent/configuration.yml: configuration file not found' });
  });

  it('the environment is taken into account', () => {
    const result = validateConfigCommand([fixture('minimal.yml')], { GATEHOUSE_LOG_LEVEL: 'loud' });
    assert.equal(result.exitCode, 1);
    assert.match(result.output, /^log\.level: /);
  });
});
