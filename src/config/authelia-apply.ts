// Applies the Authelia key table (authelia-keys.ts) to the merged configuration tree, before strict validation:
// older names are moved to their Gatehouse key, then every other listed key present is taken out with a warning
// or a problem.
import { isMap, setOwn, type ConfigTree } from './yaml-files.js';
import type { ConfigProblem } from './problems.js';
import { AUTHELIA_KEYS, finalKey, type AutheliaKeyEntry } from './authelia-keys.js';

/** Keys whose action depends on their value: a template there hides the value, so it cannot be waved through. */
const CONDITIONAL_KEYS = AUTHELIA_KEYS.filter((entry) => entry.when).map((entry) => entry.key);

export interface AutheliaKeyFindings {
  problems: ConfigProblem[];
  warnings: string[];
  /** Keys removed whatever their value (no conditional entry in them): nothing inside them matters any more. */
  removed: string[];
}

function autheliaKeyWarning(entry: AutheliaKeyEntry): string {
  return `key '${entry.key}' is an Authelia option Gatehouse does not support; it is ignored: ${entry.text}`;
}

// ---- paths in the untyped tree (lists are indexed by their position as text) ----

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

function lookup(tree: ConfigTree, parts: readonly string[]): { present: boolean; value: unknown } {
  let node: unknown = tree;
  for (const part of parts) {
    if (!isNode(node) || !Object.hasOwn(node, part)) return { present: false, value: undefined };
    node = node[part];
  }
  return { present: true, value: node };
}

/** Deletes the key, then every map left empty on the way up: an emptied section must not trigger its own entry. */
function remove(tree: ConfigTree, parts: readonly string[]): void {
  const chain: Node[] = [tree];
  for (const part of parts.slice(0, -1)) {
    const next = chain[chain.length - 1]![part];
    if (!isNode(next)) return;
    chain.push(next);
  }
  delete chain[chain.length - 1]![parts[parts.length - 1]!];
  for (let i = chain.length - 1; i > 0; i--) {
    if (Array.isArray(chain[i]) || Object.keys(chain[i]!).length > 0) break;
    delete chain[i - 1]![parts[i - 1]!];
  }
}

/** Sets the key, creating maps on the way; false when something that is not a map is in the way. */
function place(tree: ConfigTree, parts: readonly string[], value: unknown): boolean {
  let node: Node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(node, part)) setOwn(node, part, {});
    const next = node[part];
    if (!isNode(next)) return false;
    node = next;
  }
  setOwn(node, parts[parts.length - 1]!, value);
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isNode(a) || !isNode(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]))
  );
}

const quoteAll = (keys: readonly string[]): string => keys.map((key) => `'${key}'`).join(' and ');
const dotted = (parts: readonly string[]): string =>
  parts.map((part, i) => (/^\d+$/.test(part) && i > 0 ? `[${part}]` : `${i > 0 ? '.' : ''}${part}`)).join('');

/**
 * The `map` entries, in table order (a chain such as `host` → `server.host` → `server.address` works because the
 * first link comes first). Each moves its value, or reports why it cannot; a value already at the new key is kept
 * when equal (a warning) and is a problem naming both keys when it differs: guessing which one is meant could
 * change who gets in.
 */
function applyMaps(tree: ConfigTree, findings: AutheliaKeyFindings): void {
  const origins = new Map<string, string>(); // new key → the older keys that set it
  for (const entry of AUTHELIA_KEYS) {
    if (entry.action !== 'map' || !entry.to) continue;
    const keys = [entry.key, ...(entry.with ?? [])];
    const found = keys.map((key) => lookup(tree, key.split('.')));
    if (!found[0]!.present && (entry.withOnlyAlongside || !found.some((f) => f.present))) continue;
    const present = keys.filter((_, i) => found[i]!.present);
    for (const key of present) remove(tree, key.split('.'));
    const named = quoteAll(present);
    const at = present[0]!;
    const target = typeof entry.to === 'string' ? entry.to.split('.') : entry.to(tree);
    if (typeof target === 'string') {
      findings.problems.push({ path: at, message: `is Authelia's older form; Gatehouse cannot map it: ${target}` });
      continue;
    }
    const to = dotted(target);
    const converted = entry.convert ? entry.convert(found.map((f) => f.value)) : { value: found[0]!.value };
    if (typeof converted === 'string') {
      findings.problems.push({
        path: at,
        message: `is Authelia's older form of '${to}' and cannot be mapped: ${converted}`,
      });
      continue;
    }
    const existing = lookup(tree, target);
    const origin = origins.get(to);
    const newKey = origin ? `'${to}' (set from ${origin})` : `'${to}'`;
    if (existing.present && converted.value !== undefined) {
      if (sameValue(existing.value, converted.value)) {
        findings.warnings.push(
          `${named} ${present.length > 1 ? 'are' : 'is'} Authelia's older name for ${newKey}, which is also set, to the same value: remove ${named}`,
        );
      } else {
        findings.problems.push({
          path: at,
          message: `${named} and ${newKey} are both set, to different values: keep only '${to}'`,
        });
      }
      continue;
    }
    if (converted.value !== undefined && !place(tree, target, converted.value)) {
      findings.problems.push({
        path: at,
        message: `is Authelia's older form of '${to}', which cannot be set: a parent of it is not a map`,
      });
      continue;
    }
    origins.set(to, named);
    const plural = present.length > 1 ? 'keys' : 'key';
    const verb = present.length > 1 ? 'are' : 'is';
    if (converted.value === undefined) {
      findings.warnings.push(
        `${plural} ${named} ${verb} Authelia's older form of '${to}', and sets nothing there (${entry.text}): remove ${named}`,
      );
      continue;
    }
    const shown = entry.secret ? '' : ` = ${JSON.stringify(converted.value)}`;
    const final = finalKey(to);
    findings.warnings.push(
      `${plural} ${named} ${verb} Authelia's older form of '${to}' and ${verb} read as ${to}${shown}: write '${final}' instead`,
    );
  }
}

/**
 * Applies the table to `tree` (in place, before strict validation): older names are mapped first (`map`); then
 * every listed key present is removed, with a problem (refuse) or a warning (warn). Then the one rule that spans
 * keys: a backend named without `file` is an error, never the default users file.
 */
export function applyAutheliaKeys(tree: ConfigTree): AutheliaKeyFindings {
  const findings: AutheliaKeyFindings = { problems: [], warnings: [], removed: [] };
  const backendNamed = isMap(tree.authentication_backend) ? Object.keys(tree.authentication_backend) : [];
  applyMaps(tree, findings);
  for (const entry of AUTHELIA_KEYS) {
    if (entry.action === 'map') continue;
    const parts = entry.key.split('.');
    let node: unknown = tree;
    for (const part of parts.slice(0, -1)) node = isMap(node) && Object.hasOwn(node, part) ? node[part] : undefined;
    const leaf = parts[parts.length - 1]!;
    if (!isMap(node) || !Object.hasOwn(node, leaf)) continue;
    if (entry.when && !entry.when(node[leaf])) continue;
    delete node[leaf];
    if (!CONDITIONAL_KEYS.some((key) => key === entry.key || key.startsWith(`${entry.key}.`)))
      findings.removed.push(entry.key);
    if (entry.action === 'refuse')
      findings.problems.push({
        path: entry.key,
        message: `is an Authelia option Gatehouse cannot honour: ${entry.text}`,
      });
    else findings.warnings.push(autheliaKeyWarning(entry));
  }
  const backend = tree.authentication_backend;
  if (backendNamed.includes('ldap') && backendNamed.includes('file')) {
    findings.problems.push({
      path: 'authentication_backend',
      message: 'names both file and ldap: configure one users backend (Authelia refuses both too)',
    });
  }
  if (backendNamed.length > 0 && !backendNamed.includes('ldap') && isMap(backend) && !Object.hasOwn(backend, 'file')) {
    findings.problems.push({
      path: 'authentication_backend.file',
      message:
        'is required when authentication_backend is configured: Gatehouse reads users from a users file or LDAP and will not fall back to ./users_database.yml',
    });
  }
  return findings;
}
