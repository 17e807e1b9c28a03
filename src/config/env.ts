// Environment overrides (SPEC §2): GATEHOUSE_ + the key path in capitals with `_` between the parts; Authelia's
// AUTHELIA_* variables are read as their GATEHOUSE_* twin or as the Authelia key they name (issue 8).
// Key names contain underscores themselves (`remember_me`), so a variable name cannot be split blindly:
// it is looked up in a table of every leaf key the schema knows.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configKeys, ENV_PREFIX, envNameFor, FILE_SUFFIX } from './reference.js';
import type { ConfigProblem } from './problems.js';
import { isMap, setOwn, type ConfigTree } from './yaml-files.js';
import { AUTHELIA_KEYS, finalKey, type AutheliaKeyEntry } from './authelia-keys.js';

interface EnvKey {
  /** Key path parts, e.g. ['session', 'remember_me']. */
  path: string[];
  dotted: string;
  /** 'text' keys take the value verbatim; 'scalar' keys parse it as a YAML scalar (`true`, `42`, `5m`). */
  kind: 'text' | 'scalar';
  /** Marked `secret: true` in the schema: also read from `GATEHOUSE_..._FILE`, and set in one place only. */
  secret: boolean;
  /** True for the `_FILE` variant of a secret key. */
  fromFile: boolean;
}

/** Every key one variable can set: the schema's scalars outside lists and maps (see reference.ts). */
export function schemaLeafPaths(): { path: string[]; kind: 'text' | 'scalar'; secret: boolean }[] {
  return configKeys()
    .filter((key) => key.settable)
    .map((key) => ({ path: key.path, kind: key.kind === 'text' ? 'text' : 'scalar', secret: key.secret }));
}

let cachedTable: Map<string, EnvKey> | undefined;

/** Variable name → key; built once. Throws if two keys map to one name (a schema change made names ambiguous). */
export function envKeyTable(): Map<string, EnvKey> {
  if (cachedTable) return cachedTable;
  const table = new Map<string, EnvKey>();
  const add = (name: string, key: EnvKey): void => {
    const clash = table.get(name);
    if (clash) throw new Error(`environment variable ${name} would name both ${clash.dotted} and ${key.dotted}`);
    table.set(name, key);
  };
  for (const leaf of schemaLeafPaths()) {
    const dotted = leaf.path.join('.');
    const secret = leaf.secret;
    // Secrets stay verbatim: a password such as `0x1F` or `1e3` must not turn into a number.
    const key: EnvKey = { path: leaf.path, dotted, kind: secret ? 'text' : leaf.kind, secret, fromFile: false };
    add(envNameFor(leaf.path), key);
    if (secret) add(envNameFor(leaf.path) + FILE_SUFFIX, { ...key, fromFile: true });
  }
  cachedTable = table;
  return table;
}

export interface EnvOverrideResult {
  problems: ConfigProblem[];
  warnings: string[];
}

/**
 * Applies every GATEHOUSE_* variable to `tree` in place, then Authelia's AUTHELIA_* variables (see
 * `applyAutheliaVariable`): a GATEHOUSE_* variable always wins over, and must agree with, its Authelia twin.
 */
export function applyEnvOverrides(
  tree: ConfigTree,
  env: Readonly<Record<string, string | undefined>>,
): EnvOverrideResult {
  const result: EnvOverrideResult = { problems: [], warnings: [] };
  const table = envKeyTable();
  const names = Object.keys(env)
    .filter((name) => env[name] !== undefined)
    .sort();
  for (const name of names) {
    const text = env[name]!;
    const launcher = AUTHELIA_LAUNCHER[name];
    if (launcher) result.problems.push({ path: name, message: `is Authelia's: ${launcher}` });
    if (!name.startsWith(ENV_PREFIX)) continue;
    const key = table.get(name);
    if (!key) {
      result.warnings.push(
        `environment variable ${name} does not name a configuration key Gatehouse knows; it is ignored`,
      );
      continue;
    }
    const value = envValue(name, text, key, env, result.problems);
    if (value !== undefined) setAtPath(tree, key, name, value, result.problems);
  }
  for (const name of names) {
    if (name.startsWith(AUTHELIA_PREFIX)) applyAutheliaVariable(tree, name, env, table, result);
  }
  return result;
}

const AUTHELIA_PREFIX = 'AUTHELIA_';
const AUTHELIA_LAUNCHER: Readonly<Record<string, string>> = {
  X_AUTHELIA_CONFIG:
    'Gatehouse reads its configuration files from --config (given several times to merge them): pass them there',
  X_AUTHELIA_CONFIG_FILTERS:
    'Gatehouse does not expand configuration templates: write the values, or use GATEHOUSE_* variables',
};

/**
 * Authelia's own variables are honoured, never silently dropped (issue 8): dropping one would run Gatehouse without
 * a PostgreSQL address or a secret it was given, falling back to embedded storage or a generated secret.
 * - `AUTHELIA_X` where `GATEHOUSE_X` names a Gatehouse key: read as `GATEHOUSE_X`, with a warning to rename it; both
 *   set is a warning when they agree and a problem naming both when they differ.
 * - `AUTHELIA_X` naming a key of the Authelia key table (or a key under one): set at that key, so the table maps it
 *   (`AUTHELIA_JWT_SECRET_FILE`), warns about it or refuses it, exactly as in a file.
 * - Anything else names no key Gatehouse knows of: refused, as an unknown key in a file would be.
 */
function applyAutheliaVariable(
  tree: ConfigTree,
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  table: Map<string, EnvKey>,
  result: EnvOverrideResult,
): void {
  const gatehouseName = ENV_PREFIX + name.slice(AUTHELIA_PREFIX.length);
  const key = table.get(gatehouseName);
  if (key) {
    const value = envValue(name, env[name]!, key, env, result.problems);
    if (value === undefined) return;
    const twins = [
      gatehouseName,
      key.fromFile ? gatehouseName.slice(0, -FILE_SUFFIX.length) : gatehouseName + FILE_SUFFIX,
    ];
    const twin = twins.find((other) => env[other] !== undefined && table.has(other));
    if (twin) {
      const twinValue = envValue(twin, env[twin]!, table.get(twin)!, env, []);
      if (twinValue !== undefined && twinValue === value)
        result.warnings.push(
          `environment variables ${name} and ${twin} are both set, to the same value: remove ${name}`,
        );
      else
        result.problems.push({
          path: key.dotted,
          message: `set by both ${name} and ${twin}, to different values: keep only ${twin}`,
        });
      return;
    }
    result.warnings.push(
      `environment variable ${name} is Authelia's name for ${gatehouseName} and is read as ${gatehouseName}: rename it`,
    );
    setAtPath(tree, key, name, value, result.problems);
    return;
  }
  const resolved = autheliaTableKey(name.slice(AUTHELIA_PREFIX.length));
  if (!resolved) {
    result.problems.push({
      path: name,
      message:
        'names no configuration key Gatehouse knows or maps (see "Authelia keys" in docs/configuration.md): remove it',
    });
    return;
  }
  const { entry, path, fromFile } = resolved;
  const dottedPath = path.join('.');
  const text = env[name]!;
  // Only a secret Gatehouse reads (jwt_secret) is read from its file; the others are reported and dropped unread.
  const value = fromFile
    ? entry.secret
      ? readSecretFile(name, text, dottedPath, result.problems)
      : text
    : entry.secret
      ? text
      : parseScalar(text);
  if (value === undefined) return;
  const equivalent =
    entry.action === 'map' && typeof entry.to === 'string'
      ? table.get(envNameFor(finalKey(entry.to).split('.')) + (fromFile ? FILE_SUFFIX : ''))
      : undefined;
  const advice = equivalent ? `: rename it ${envNameFor(equivalent.path)}${fromFile ? FILE_SUFFIX : ''}` : '';
  result.warnings.push(`environment variable ${name} is Authelia's and is read as key '${dottedPath}'${advice}`);
  let node = tree;
  for (const part of path.slice(0, -1)) {
    const child = node[part];
    if (child === undefined) setOwn(node, part, {});
    else if (!isMap(child)) {
      result.problems.push({ path: dottedPath, message: `${name} cannot set it: '${part}' is not a map` });
      return;
    }
    node = node[part] as ConfigTree;
  }
  const leaf = path[path.length - 1]!;
  if (entry.secret && node[leaf] !== undefined) {
    result.problems.push({ path: dottedPath, message: `set both in the configuration file and by ${name}; keep one` });
    return;
  }
  setOwn(node, leaf, value);
}

const envForm = (key: string): string => key.replace(/\./g, '_').toUpperCase();

/** The Authelia key table entry an AUTHELIA_* name (without the prefix) sets: exactly its key, else a key under it. */
function autheliaTableKey(rest: string): { entry: AutheliaKeyEntry; path: string[]; fromFile: boolean } | undefined {
  const bases: [string, boolean][] = [[rest, false]];
  if (rest.endsWith(FILE_SUFFIX)) bases.push([rest.slice(0, -FILE_SUFFIX.length), true]);
  for (const [base, fromFile] of bases) {
    for (const entry of AUTHELIA_KEYS) {
      // A key folded in with another (server.port with server.host) is set where the file would hold it.
      const key = [entry.key, ...(entry.with ?? [])].find((candidate) => envForm(candidate) === base);
      if (key) return { entry, path: key.split('.'), fromFile };
    }
  }
  for (const [base, fromFile] of bases) {
    // The longest key whose subtree holds the name: what lies below it is covered by the entry whatever it is.
    const under = AUTHELIA_KEYS.filter(
      (entry) => entry.action !== 'map' && base.startsWith(`${envForm(entry.key)}_`),
    ).sort((a, b) => b.key.length - a.key.length)[0];
    if (under)
      return {
        entry: under,
        path: [...under.key.split('.'), base.slice(envForm(under.key).length + 1).toLowerCase()],
        fromFile,
      };
  }
  return undefined;
}

function envValue(
  name: string,
  text: string,
  key: EnvKey,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): unknown {
  if (key.fromFile) {
    const plainName = name.slice(0, -FILE_SUFFIX.length);
    if (env[plainName] !== undefined) {
      problems.push({ path: key.dotted, message: `set by both ${plainName} and ${name}; use one of them` });
      return undefined;
    }
    return readSecretFile(name, text, key.dotted, problems);
  }
  return key.kind === 'text' ? text : parseScalar(text);
}

/** The secret a `_FILE` variable names (one trailing newline trimmed); an empty file is named, never used as a secret. */
function readSecretFile(name: string, file: string, keyPath: string, problems: ConfigProblem[]): string | undefined {
  let content: string;
  try {
    content = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : 'could not read it';
    problems.push({ path: keyPath, message: `${name} names '${file}': ${reason}` });
    return undefined;
  }
  if (content.trim() === '') {
    problems.push({ path: keyPath, message: `${name} names '${file}', which is empty: write the secret into it` });
    return undefined;
  }
  return content;
}

/** `true`, `42`, `5m` as YAML would read them; anything that is not a plain scalar stays the text it was. */
function parseScalar(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    const value: unknown = parseYaml(text);
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : text;
  } catch {
    return text;
  }
}

function setAtPath(tree: ConfigTree, key: EnvKey, name: string, value: unknown, problems: ConfigProblem[]): void {
  let node = tree;
  for (let i = 0; i < key.path.length - 1; i++) {
    const part = key.path[i]!;
    const child = node[part];
    if (child === undefined) {
      const created: ConfigTree = {};
      setOwn(node, part, created);
      node = created;
    } else if (isMap(child)) {
      node = child;
    } else {
      problems.push({
        path: key.path.slice(0, i + 1).join('.'),
        message: `must be a map for ${name} to set ${key.dotted}`,
      });
      return;
    }
  }
  const leaf = key.path[key.path.length - 1]!;
  // A secret in two places leaves the operator unsure which one is live (and one of them is stale).
  if (key.secret && node[leaf] !== undefined) {
    problems.push({ path: key.dotted, message: `set both in the configuration file and by ${name}; keep one` });
    return;
  }
  setOwn(node, leaf, value);
}
