// The <headlight-explorer> element as ONE classic script, embed/headlight-explorer.js
// in the build: an IIFE with everything it imports inside, no import statement.
// Why not a Rollup entry beside the page: that is an ES module sharing chunks
// with the page, and a host page on another origin may load a module only if
// Headlight's server sends CORS headers. A classic <script src> from any
// origin needs none, so the element embeds from any static host.
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { classicScript } from '../../scripts/lib/classic-script.mjs';
import { ELEMENT_SCRIPT } from '../src/embed/element-script';

const ENTRY = fileURLToPath(new URL('../src/embed/headlight-explorer.ts', import.meta.url));

export function headlightElementBundle(): Plugin {
  return {
    name: 'headlight-element-bundle',
    apply: 'build',
    async generateBundle() {
      const source = await classicScript(ENTRY);
      if (/^\s*(?:import|export)\b/m.test(source)) {
        this.error('the element bundle is not one classic script');
      }
      this.emitFile({ type: 'asset', fileName: ELEMENT_SCRIPT, source });
    },
  };
}
