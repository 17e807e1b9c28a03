// Reading the shipped deployment files for the tests that check them: the Dockerfile's instructions, YAML
// documents, nginx directives. Small readers for these files only, not general parsers.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../../src/paths.js';

export const repoPath = (...parts: string[]): string => join(packageRoot, ...parts);
export const readRepoFile = (...parts: string[]): string => readFileSync(repoPath(...parts), 'utf8');

export interface Instruction {
  /** Upper-case instruction name: FROM, RUN, COPY, ... */
  name: string;
  /** The rest of the logical line, continuations joined with a space. */
  args: string;
  /** Index of the build stage (FROM) it belongs to. */
  stage: number;
}

/** The Dockerfile's logical lines: comments dropped, `\` continuations joined. */
export function dockerfileInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    const continued = line.endsWith('\\');
    pending += `${continued ? line.slice(0, -1).trim() : line} `;
    if (continued) continue;
    const logical = pending.trim();
    pending = '';
    if (logical === '') continue;
    const space = logical.search(/\s/);
    const name = (space < 0 ? logical : logical.slice(0, space)).toUpperCase();
    if (name === 'FROM') stage += 1;
    instructions.push({ name, args: space < 0 ? '' : logical.slice(space + 1).trim(), stage });
  }
  return instructions;
}

/** The JSON array of an exec-form instruction (`CMD ["a","b"]`), after any `--flag=value` options. */
export function execForm(args: string): string[] {
  const start = args.indexOf('[');
  if (start < 0) throw new Error(`not in exec form: ${args}`);
  const parsed: unknown = JSON.parse(args.slice(start));
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string'))
    throw new Error(`not a string array: ${args}`);
  return parsed;
}

/** Every file under `dir` (relative to the repository) whose name ends with one of `extensions`. */
export function filesUnder(dir: string, extensions: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (extensions.some((ext) => name.endsWith(ext))) found.push(relative(packageRoot, full));
    }
  };
  walk(repoPath(dir));
  return found;
}

/** Every document of a YAML file as plain data; throws with the file name on any parse error or warning. */
export function yamlDocuments(path: string): unknown[] {
  const docs = parseAllDocuments(readRepoFile(path), { prettyErrors: true });
  if (!Array.isArray(docs)) throw new Error(`${path}: not a YAML stream`);
  return docs.map((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0)
      throw new Error(`${path} (document ${index + 1}): ${problems.map((p) => p.message).join('; ')}`);
    return doc.toJS() as unknown;
  });
}

/** The values of every occurrence of an nginx directive (`include x;` → ['x']), comments ignored. */
export function nginxDirectiveValues(text: string, directive: string): string[] {
  const withoutComments = text.replace(/#[^\n]*/g, '');
  const pattern = new RegExp(`(?:^|[\\s;{}])${directive}\\s+([^;{}]+);`, 'g');
  return [...withoutComments.matchAll(pattern)].map((m) => m[1]!.trim());
}
