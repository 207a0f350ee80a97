// One TypeScript entry and all it imports as ONE classic script (an IIFE,
// minified, no import statement left): what a page can load with a plain
// <script src> from any origin, or inline. Used by the Vite build for the
// <headlight-explorer> element (web/config/element-bundle.ts) and by
// scripts/build-single.mjs for the single file's inline scripts.
import { build } from 'esbuild';

/** The bundled script's text. `entry` is an absolute path. */
export async function classicScript(entry) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
