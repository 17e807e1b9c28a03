// Reads the configuration files and deep-merges them in order (SPEC §2: several --config files).
import { readFileSync } from 'node:fs';
import { isMap as isYamlMap, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import { formatKeyPath, type ConfigProblem } from './problems.js';

/** The untyped configuration as read from YAML, before the schema has looked at it. */
export type ConfigTree = Record<string, unknown>;

export interface ReadFilesResult {
  tree: ConfigTree;
  /** The files could not be read as a whole: checking the schema against them would only mislead. */
  problems: ConfigProblem[];
  /** Values refused where they stand (Authelia templates); they are removed from `tree`, the rest is still checked. */
  refused: ConfigProblem[];
  warnings: string[];
}

// Aliases can expand exponentially ("billion laughs"); a configuration never needs many.
const MAX_ALIAS_COUNT = 100;

export function readConfigFiles(files: readonly string[]): ReadFilesResult {
  const result: ReadFilesResult = { tree: {}, problems: [], refused: [], warnings: [] };
  for (const file of files) {
    const tree = readConfigFile(file, result);
    if (tree) result.tree = deepMerge(result.tree, tree);
  }
  return result;
}

function readConfigFile(file: string, sink: ReadFilesResult): ConfigTree | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    sink.problems.push({ path: file, message: describeReadError(error) });
    return undefined;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  for (const warning of doc.warnings)
    sink.warnings.push(`${yamlLocation(file, warning)}: ${firstLine(warning.message)}`);
  const syntaxError = doc.errors[0]; // later ones are mostly knock-on effects of the first
  if (syntaxError) {
    sink.problems.push({
      path: yamlLocation(file, syntaxError),
      message: `invalid YAML: ${firstLine(syntaxError.message)}`,
    });
    sink.problems.push(...templateLines(text, file));
    return undefined;
  }
  removeTemplates(doc.contents, [], file, sink.refused);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    sink.problems.push({
      path: file,
      message: `invalid YAML: ${error instanceof Error ? firstLine(error.message) : String(error)}`,
    });
    return undefined;
  }
  if (value === null || value === undefined) return {}; // an empty file configures nothing
  if (!isMap(value)) {
    sink.problems.push({
      path: file,
      message: `the top level must be a map of configuration keys, not ${describeValue(value)}`,
    });
    return undefined;
  }
  return dropNulls(value);
}

// Authelia can run its configuration files through Go templates (`{{ env "X" }}`, `{{ secret "/path" }}`).
// Gatehouse does not: such a value taken literally would become a password or a path nobody meant.
const TEMPLATE = '{{';

function templateMessage(file: string): string {
  return (
    `uses Authelia's configuration templating ({{ ... }}) in ${file}: Gatehouse does not expand templates; ` +
    'write the value itself, or set it through a GATEHOUSE_* environment variable (secrets also through GATEHOUSE_*_FILE)'
  );
}

/**
 * Finds templated values (quoted: a string holding `{{`; unquoted: a flow map YAML read out of `{{ ... }}`),
 * reports each at its key path and replaces it by null, which counts as absent.
 */
function removeTemplates(node: unknown, path: (string | number)[], file: string, refused: ConfigProblem[]): void {
  const isTemplate = (value: unknown): boolean =>
    (isScalar(value) && typeof value.value === 'string' && value.value.includes(TEMPLATE)) ||
    (isYamlMap(value) && value.flow === true && value.items.length === 1 && isYamlMap(value.items[0]!.key));
  const visit = (value: unknown, at: (string | number)[], replace: () => void): void => {
    if (isTemplate(value)) {
      refused.push({ path: formatKeyPath(at), message: templateMessage(file) });
      replace();
    } else {
      removeTemplates(value, at, file, refused);
    }
  };
  if (isYamlMap(node)) {
    // A template in a key's place (`{{ env "X" }}: value`) reads as a map used as a key, which YAML allows and a
    // configuration never means: the pair is reported and dropped here, so nothing prints a parser warning instead.
    node.items = node.items.filter((pair) => {
      const templated =
        isTemplate(pair.key) ||
        (isScalar(pair.key) && typeof pair.key.value === 'string' && pair.key.value.includes(TEMPLATE));
      if (!templated && !isYamlMap(pair.key) && !isSeq(pair.key)) return true;
      refused.push({
        path: path.length > 0 ? formatKeyPath(path) : file,
        message: templated
          ? `a key ${templateMessage(file)}`
          : `has a key written as a ${isSeq(pair.key) ? 'list' : 'map'} in ${file}; keys are plain names`,
      });
      return false;
    });
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      visit(pair.value, [...path, key], () => {
        pair.value = new Scalar(null);
      });
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      visit(item, [...path, index], () => {
        node.items[index] = new Scalar(null);
      });
    });
  }
}

/** When the YAML cannot be read at all, an unquoted template is the likely cause: name its lines. */
function templateLines(text: string, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  text.split('\n').forEach((line, index) => {
    const at = line.indexOf(TEMPLATE);
    const comment = line.search(/(^|\s)#/);
    if (at >= 0 && (comment < 0 || comment > at))
      problems.push({ path: `${file}:${index + 1}`, message: templateMessage(file) });
  });
  return problems;
}

function yamlLocation(
  file: string,
  error: { linePos?: [{ line: number; col: number }] | [{ line: number; col: number }, unknown] },
): string {
  const start = error.linePos?.[0];
  return start ? `${file}:${start.line}:${start.col}` : file;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
}

function describeReadError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'configuration file not found';
  if (code === 'EISDIR') return 'is a directory, not a configuration file';
  if (code === 'EACCES') return 'configuration file is not readable (permission denied)';
  return `could not read the configuration file: ${error instanceof Error ? error.message : String(error)}`;
}

export function isMap(value: unknown): value is ConfigTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}

/**
 * Sets an own property even for the key `__proto__`, which plain assignment would treat as the prototype:
 * the key then stays visible to the schema, which rejects it as unknown.
 */
export function setOwn(target: ConfigTree, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Maps merge key by key; lists and scalars from `over` replace those of `base`. Neither input is modified. */
export function deepMerge(base: ConfigTree, over: ConfigTree): ConfigTree {
  const merged: ConfigTree = {};
  for (const key of Object.keys(base)) setOwn(merged, key, base[key]);
  for (const key of Object.keys(over)) {
    const before = merged[key];
    const after = over[key];
    setOwn(merged, key, isMap(before) && isMap(after) ? deepMerge(before, after) : after);
  }
  return merged;
}

/**
 * A key written with no value (`redis:` with everything below commented out) counts as absent, as in
 * Authelia, rather than as a null the schema would reject.
 */
function dropNulls(tree: ConfigTree): ConfigTree {
  const cleaned: ConfigTree = {};
  for (const key of Object.keys(tree)) {
    const value = tree[key];
    if (value === null) continue;
    setOwn(cleaned, key, cleanValue(value));
  }
  return cleaned;
}

function cleanValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanValue);
  return isMap(value) ? dropNulls(value) : value;
}
