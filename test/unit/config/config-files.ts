// Helpers shared by the configuration tests: fixture paths, throw-away config files, problem capture.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { ConfigError, loadConfig, type ConfigProblem, type LoadedConfig } from '../../../src/config/index.js';

// Compiled to dist/test/unit/config/: the YAML fixtures stay in the source tree.
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/config/', import.meta.url));

export const fixture = (name: string): string => join(FIXTURES, name);

let scratch: string | undefined;

/** Writes `content` (YAML text, or an object to serialise) to a new file and returns its path. */
export function tempFile(content: string | object, name = 'configuration.yml'): string {
  if (!scratch) {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-test-'));
    scratch = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const dir = mkdtempSync(join(scratch, 'case-'));
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : stringify(content));
  return path;
}

export const MINIMAL_COOKIE = { domain: 'example.com', authelia_url: 'https://auth.example.com' };

/** A valid configuration (one cookie domain) with `extra` merged over it at the top level and in `session`. */
export function withMinimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const session = { cookies: [MINIMAL_COOKIE], ...(extra.session as object | undefined) };
  return { ...extra, session };
}

/** Loads an object or YAML text as the only configuration file, with an empty environment unless given. */
export function loadContent(content: string | object, env: Record<string, string | undefined> = {}): LoadedConfig {
  return loadConfig({ files: [tempFile(content)], env });
}

/** Runs `load`, which must fail, and returns its problems. */
export function problemsOf(load: () => unknown): ConfigProblem[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

/** The problem at `path`, failing with the whole list when there is none. */
export function problemAt(problems: readonly ConfigProblem[], path: string): ConfigProblem {
  const found = problems.find((problem) => problem.path === path);
  assert.ok(found, `no problem at ${path}; got:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  return found;
}
