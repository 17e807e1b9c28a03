// Parses the configuration so that type errors do not hide the checks that span keys (issue 7: every problem at
// once). The schema's problems are those of the tree as written; then each offending value is taken out of a copy
// (a required key that is missing takes its parent with it) until the rest parses, and the semantic checks run on
// that. Their problems about what was taken out are dropped: they would describe defaults, not the operator's file.
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { schemaIssueMessage, schemaProblems } from './zod-problems.js';
import { formatKeyPath, type ConfigProblem } from './problems.js';
import { isMap, setOwn, type ConfigTree } from './yaml-files.js';

type Segment = string | number;

export interface PartialParse {
  /** The configuration with every unparseable value taken out; undefined only when that did not converge. */
  config: Config | undefined;
  problems: ConfigProblem[];
  /** Whether a problem at `path` is about something taken out (or inside it, or above it). */
  isTainted(path: string): boolean;
  /** Maps a key path of `config` back to the tree as written (list entries taken out shift the later ones). */
  originalPath(path: string): string;
}

// A configuration has a few hundred keys at most; each round takes one value out.
const MAX_ROUNDS = 500;

const parse = (tree: unknown) => configSchema.safeParse(tree, { error: schemaIssueMessage, reportInput: true });

export function parsePartially(tree: ConfigTree): PartialParse {
  const first = parse(tree);
  if (first.success) return { config: first.data, problems: [], isTainted: () => false, originalPath: (path) => path };
  const problems = schemaProblems(first.error.issues);

  const copy = cloneTree(tree) as ConfigTree;
  /** Entries taken out of lists, in order: the list's path (in the coordinates of that moment) and the index. */
  const removedEntries: { list: Segment[]; index: number }[] = [];
  const tainted: Segment[][] = [];
  const toOriginal = (path: readonly Segment[]): Segment[] => {
    let mapped = [...path];
    for (const removal of [...removedEntries].reverse()) mapped = shiftBack(mapped, removal.list, removal.index);
    return mapped;
  };

  let config: Config | undefined;
  for (let round = 0; round < MAX_ROUNDS && config === undefined; round++) {
    const result = round === 0 ? first : parse(copy);
    if (result.success) {
      config = result.data;
      break;
    }
    const path = removalPath(result.error.issues[0]!, copy);
    if (path === undefined) break;
    tainted.push(toOriginal(path));
    const parentPath = path.slice(0, -1);
    const parent = valueAt(copy, parentPath);
    const last = path[path.length - 1]!;
    if (Array.isArray(parent) && typeof last === 'number') {
      parent.splice(last, 1);
      removedEntries.push({ list: parentPath, index: last });
    } else if (isMap(parent)) {
      delete parent[String(last)];
    } else {
      break;
    }
  }

  const taintedPaths = tainted.map((path) => formatKeyPath(path));
  return {
    config,
    problems,
    isTainted: (path) => taintedPaths.some((taint) => isWithin(path, taint) || isWithin(taint, path)),
    originalPath: (path) => formatKeyPath(toOriginal(parseKeyPath(path))),
  };
}

/** The value to take out for an issue: the offending one, or the nearest present ancestor when it is missing. */
function removalPath(issue: z.core.$ZodIssue, tree: ConfigTree): Segment[] | undefined {
  let path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path = [...path, issue.keys[0]!];
  while (path.length > 0 && valueAt(tree, path) === undefined) path = path.slice(0, -1);
  return path.length > 0 ? path : undefined;
}

function valueAt(tree: unknown, path: readonly Segment[]): unknown {
  let node = tree;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isMap(node) && Object.hasOwn(node, String(segment))) node = node[String(segment)];
    else return undefined;
  }
  return node;
}

/** Undoes one list-entry removal on a path: later entries of that list get their index back. */
function shiftBack(path: Segment[], list: readonly Segment[], index: number): Segment[] {
  if (path.length <= list.length || !list.every((segment, i) => path[i] === segment)) return path;
  const at = path[list.length];
  if (typeof at !== 'number' || at < index) return path;
  return [...list, at + 1, ...path.slice(list.length + 1)];
}

function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`) || path.startsWith(`${ancestor}[`);
}

/** `session.cookies[0].domain` → `['session', 'cookies', 0, 'domain']` (the inverse of `formatKeyPath`). */
export function parseKeyPath(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    segments.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  return segments;
}

function cloneTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneTree);
  if (!isMap(value)) return value;
  const copy: ConfigTree = {};
  for (const key of Object.keys(value)) setOwn(copy, key, cloneTree(value[key]));
  return copy;
}

/** Key paths in reading order: segment by segment, list indices as numbers (`rules[2]` before `rules[10]`). */
export function compareKeyPaths(a: string, b: string): number {
  const left = parseKeyPath(a);
  const right = parseKeyPath(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i]!;
    const y = right[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return left.length - right.length;
}
