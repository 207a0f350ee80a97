import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { headlightElementBundle } from './config/element-bundle';
import { headlightModels } from './config/models-plugin';

const root = fileURLToPath(new URL('.', import.meta.url));

// The dev server injects CSS as <style> elements, which the page's CSP
// (style-src 'self') forbids; relax style-src for `vite` (serve) only. The
// built page keeps the strict policy.
function devStyleCsp(): Plugin {
  return {
    name: 'headlight-dev-style-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
    },
  };
}

export default defineConfig({
  root,
  // Relative asset URLs: dist/ works under any sub-path and from any static host.
  base: './',
  publicDir: 'public',
  plugins: [headlightModels(), headlightElementBundle(), devStyleCsp()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The model and wasm files are fetched, never inlined.
    assetsInlineLimit: 0,
    rollupOptions: {
      // The page. The <headlight-explorer> element is a classic script of its
      // own, embed/headlight-explorer.js (config/element-bundle.ts).
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
      },
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
      },
    },
  },
  worker: {
    // worker.ts is a classic worker: it loads the Emscripten module with
    // importScripts (the module is not an ES module, and eval is forbidden).
    format: 'iife',
  },
});
