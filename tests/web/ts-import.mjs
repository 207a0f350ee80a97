// Imports a TypeScript module of web/src in Node tests: esbuild (Vite's own
// dependency) bundles it to a temporary ES module, which is then imported.
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const repoRoot = resolve(new URL('../..', import.meta.url).pathname);

export async function importTs(relativePath) {
  const result = await build({
    entryPoints: [join(repoRoot, relativePath)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const dir = mkdtempSync(join(tmpdir(), 'headlight-ts-'));
  const file = join(dir, 'module.mjs');
  writeFileSync(file, result.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}
