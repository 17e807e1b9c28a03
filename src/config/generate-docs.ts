// `npm run generate:config`: writes what is generated from the schema (reference.ts) into the repository: the key
// table and the Authelia key table of docs/configuration.md and configuration.schema.json (the npm script then formats the JSON with Biome).
// `--check` writes nothing and exits 1 when either is stale (the unit tests check the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { packageRoot } from '../paths.js';
import { jsonSchemaText, withGeneratedTables } from './reference.js';

export const DOCS_PATH = join('docs', 'configuration.md');
export const JSON_SCHEMA_PATH = 'configuration.schema.json';

export interface GeneratedFile {
  path: string;
  content: string;
  /** Whether the committed text is what the generator makes (the JSON by value: Biome formats it after writing). */
  matches: (committed: string) => boolean;
}

const sameJson = (a: string, b: string): boolean => {
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
  } catch {
    return false;
  }
};

/** Each generated file with its content as it should be committed. */
export function generatedFiles(root: string = packageRoot): GeneratedFile[] {
  const docs = readFileSync(join(root, DOCS_PATH), 'utf8');
  const withTable = withGeneratedTables(docs);
  if (withTable === undefined) throw new Error(`${DOCS_PATH} lost the marker comments around a generated table`);
  return [
    { path: DOCS_PATH, content: withTable, matches: (committed) => committed === withTable },
    {
      path: JSON_SCHEMA_PATH,
      content: jsonSchemaText(),
      matches: (committed) => sameJson(committed, jsonSchemaText()),
    },
  ];
}

function current(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  let stale = 0;
  for (const file of generatedFiles()) {
    const path = join(packageRoot, file.path);
    if (file.matches(current(path))) continue;
    stale++;
    if (check) console.error(`${file.path} is stale: run npm run generate:config`);
    else {
      writeFileSync(path, file.content);
      console.log(`wrote ${file.path}`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

// Run as a script (not when a test imports generatedFiles).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  process.exitCode = main(process.argv.slice(2));
