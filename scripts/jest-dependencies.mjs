// Jest's dependency extractor: a compiled file (dist/src/x.js, dist/test/x.test.js) also depends on the .ts file it
// was compiled from. `jest --watch` runs the tests related to the files changed since the last commit, and those are
// .ts files: through this link it finds the compiled tests that import them.
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist') + sep;

export function extract(code, filePath, defaultExtract) {
  const dependencies = new Set(defaultExtract(code, filePath));
  if (filePath.startsWith(dist) && filePath.endsWith('.js')) {
    const source = join(root, `${filePath.slice(dist.length, -'.js'.length)}.ts`);
    dependencies.add(`./${relative(dirname(filePath), source).split(sep).join('/')}`);
  }
  return dependencies;
}

export function getCacheKey() {
  return 'gatehouse-dist-to-ts-1';
}
