// Environment overrides (SPEC §2): GATEHOUSE_ + the key path in capitals with `_` between the parts.
// Key names contain underscores themselves (`remember_me`), so a variable name cannot be split blindly:
// it is looked up in a table of every leaf key the schema knows.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema } from './schema.js';
import type { ConfigProblem } from './problems.js';
import { isMap, setOwn, type ConfigTree } from './yaml-files.js';

const ENV_PREFIX = 'GATEHOUSE_';
const FILE_SUFFIX = '_FILE';

/** Keys whose value is a secret: they also read from `GATEHOUSE_..._FILE` and must be set in one place only. */
const SECRET_KEY_PATHS: readonly string[] = [
  'session.secret',
  'session.redis.password',
  'session.redis.high_availability.sentinel_password',
  'storage.postgres.password',
  'notifier.smtp.password',
  'identity_validation.jwt_secret',
];

interface EnvKey {
  /** Key path parts, e.g. ['session', 'remember_me']. */
  path: string[];
  dotted: string;
  /** 'text' keys take the value verbatim; 'scalar' keys parse it as a YAML scalar (`true`, `42`, `5m`). */
  kind: 'text' | 'scalar';
  secret: boolean;
  /** True for the `_FILE` variant of a secret key. */
  fromFile: boolean;
}

// The schema wraps values in these without changing where they sit in the tree.
interface SchemaDef {
  type: string;
  innerType?: unknown;
  in?: unknown;
  shape?: Record<string, unknown>;
}
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);
const TEXT_TYPES = new Set(['string', 'enum', 'literal', 'template_literal']);

function defOf(schema: unknown): SchemaDef {
  return (schema as { _zod: { def: SchemaDef } })._zod.def;
}

function unwrap(schema: unknown): SchemaDef {
  let def = defOf(schema);
  for (;;) {
    if (WRAPPERS.has(def.type) && def.innerType) def = defOf(def.innerType);
    else if (def.type === 'pipe' && def.in) def = defOf(def.in); // transforms: what the YAML holds is the input side
    else return def;
  }
}

/** Every leaf key path of the schema (lists are skipped: a single variable cannot describe one). */
export function schemaLeafPaths(schema: unknown = configSchema): { path: string[]; kind: 'text' | 'scalar' }[] {
  const leaves: { path: string[]; kind: 'text' | 'scalar' }[] = [];
  const walk = (node: unknown, path: string[]): void => {
    const def = unwrap(node);
    if (def.type === 'object' && def.shape) {
      for (const [key, child] of Object.entries(def.shape)) walk(child, [...path, key]);
    } else if (def.type !== 'array' && def.type !== 'tuple' && def.type !== 'record') {
      leaves.push({ path, kind: TEXT_TYPES.has(def.type) ? 'text' : 'scalar' });
    }
  };
  walk(schema, []);
  return leaves;
}

function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.join('_').toUpperCase();
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
    const secret = SECRET_KEY_PATHS.includes(dotted);
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

/** Applies every GATEHOUSE_* variable to `tree` in place. */
export function applyEnvOverrides(tree: ConfigTree, env: Readonly<Record<string, string | undefined>>): EnvOverrideResult {
  const result: EnvOverrideResult = { problems: [], warnings: [] };
  const table = envKeyTable();
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    const authelia = autheliaVariableProblem(name, table);
    if (authelia && text !== undefined) result.problems.push(authelia);
    if (!name.startsWith(ENV_PREFIX) || text === undefined) continue;
    const key = table.get(name);
    if (!key) {
      result.warnings.push(`environment variable ${name} does not name a configuration key Gatehouse knows; it is ignored`);
      continue;
    }
    const value = envValue(name, text, key, env, result.problems);
    if (value !== undefined) setAtPath(tree, key, name, value, result.problems);
  }
  return result;
}

const AUTHELIA_PREFIX = 'AUTHELIA_';
const AUTHELIA_LAUNCHER: Readonly<Record<string, string>> = {
  X_AUTHELIA_CONFIG: 'Gatehouse reads its configuration files from --config (given several times to merge them): pass them there',
  X_AUTHELIA_CONFIG_FILTERS: 'Gatehouse does not expand configuration templates: write the values, or use GATEHOUSE_* variables',
};

/**
 * Authelia's own variables would set keys (a PostgreSQL address, a Redis host, a secret) that Gatehouse would then
 * silently do without, falling back to embedded storage or a generated secret: refused, with the name to use.
 */
function autheliaVariableProblem(name: string, table: Map<string, EnvKey>): ConfigProblem | undefined {
  const launcher = AUTHELIA_LAUNCHER[name];
  if (launcher) return { path: name, message: `is Authelia's: ${launcher}` };
  if (!name.startsWith(AUTHELIA_PREFIX)) return undefined;
  const renamed = ENV_PREFIX + name.slice(AUTHELIA_PREFIX.length);
  const advice = table.has(renamed) ? `rename it ${renamed}` : 'it names no Gatehouse key (see "Authelia keys" in docs/configuration.md): remove it';
  return { path: name, message: `Gatehouse does not read AUTHELIA_* variables, and would run without this setting: ${advice}` };
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
    return readSecretFile(name, text, key, problems);
  }
  return key.kind === 'text' ? text : parseScalar(text);
}

function readSecretFile(name: string, file: string, key: EnvKey, problems: ConfigProblem[]): string | undefined {
  try {
    return readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : 'could not read it';
    problems.push({ path: key.dotted, message: `${name} names '${file}': ${reason}` });
    return undefined;
  }
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
      problems.push({ path: key.path.slice(0, i + 1).join('.'), message: `must be a map for ${name} to set ${key.dotted}` });
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
