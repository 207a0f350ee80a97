// npm run build:single: ONE self-contained HTML file, web/dist-single/headlight.html,
// with the page, its worker, the wasm engine and the default model inside, that
// works when opened from disk (file://) with no request to anything.
//
// How: Vite builds the page (without the <headlight-explorer> entry, so it is
// one JS chunk) into a temporary folder; the chunk and the stylesheet go inline
// (CSP by sha256 hash, no 'unsafe-inline'); every file the page fetches goes
// into base64 data blocks that web/src/embed/inline-files.ts serves to fetch(),
// new Worker() and the worker's importScripts() (see that file). The model is
// the index's default (the page's: web/config/models-plugin.ts
// PREFERRED_DEFAULT when served, else the first trained model, else the
// tiny-gpt fixture). Needs web/public/wasm (npm run build:wasm).
//
// Usage: node scripts/build-single.mjs [--out FILE] [--model NAME | --model-dir DIR]
//   --model NAME     a model the page build serves (models/NAME, or tiny-gpt)
//   --model-dir DIR  any model folder (config.json, model.safetensors, vocab.json,
//                    merges.txt), e.g. a GPT-2 checkpoint; named after the folder
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as viteBuild } from 'vite';
import { classicScript } from './lib/classic-script.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
const FILE_BLOCK_TYPE = 'application/x-headlight-file'; // as in web/src/embed/inline-files-table.ts
const WORKER_PREAMBLE_PATH = 'inline-files-worker.js';
const MIME_TYPES = {
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.safetensors': 'application/octet-stream',
};

function parseArgs(argv) {
  const args = {
    out: join(REPO_ROOT, 'web', 'dist-single', 'headlight.html'),
    model: null,
    modelDir: null,
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = resolve(argv[++i]);
    else if (argv[i] === '--model') args.model = argv[++i];
    else if (argv[i] === '--model-dir') args.modelDir = resolve(argv[++i]);
    else
      throw new Error(
        `build-single: unknown argument ${argv[i]} (use --out FILE, --model NAME, --model-dir DIR)`,
      );
  }
  if (args.model && args.modelDir)
    throw new Error('build-single: give --model or --model-dir, not both');
  return args;
}

function mimeOf(path) {
  const dot = path.lastIndexOf('.');
  return MIME_TYPES[path.slice(dot)] ?? 'application/octet-stream';
}

function sha256(text) {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

// Inline script text must not close its element or open an HTML comment.
// Both sequences only occur inside string literals in bundled code, where
// "<\/" and "<\!" mean the same characters.
function inlineSafeScript(code) {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function bundleTs(entry) {
  return classicScript(join(REPO_ROOT, entry));
}

async function buildPage(outDir) {
  await viteBuild({
    configFile: join(REPO_ROOT, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, modulePreload: { polyfill: false } },
    plugins: [
      {
        name: 'headlight-single-entry',
        // Only the page: with the embed entry beside it, shared code would be
        // split into a second chunk, and an inline module cannot import one.
        config(config) {
          config.build.rollupOptions.input = { index: join(REPO_ROOT, 'web', 'index.html') };
          config.build.rollupOptions.output = {
            ...config.build.rollupOptions.output,
            inlineDynamicImports: true,
          };
        },
      },
    ],
  });
}

// A model folder from anywhere: its index entry as models-plugin.ts would write it.
function externalModel(dir) {
  const missing = MODEL_FILES.filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) throw new Error(`build-single: ${dir} lacks ${missing.join(', ')}`);
  const name = basename(dir);
  if (!/^[\w.-]{1,64}$/.test(name))
    throw new Error(`build-single: "${name}" is not a usable model name (letters, digits, . _ -)`);
  const bytes = MODEL_FILES.reduce((n, file) => n + statSync(join(dir, file)).size, 0);
  return { default: name, models: [{ name, description: `Model ${name}`, bytes }] };
}

function chooseModel(distDir, wanted) {
  const index = JSON.parse(readFileSync(join(distDir, 'models', 'index.json'), 'utf8'));
  const names = index.models.map((m) => m.name);
  const name = wanted ?? (index.default || names[0]);
  const entry = index.models.find((m) => m.name === name);
  if (!entry)
    throw new Error(
      `build-single: model "${name}" is not built; models: ${names.join(', ') || 'none'}`,
    );
  // One model is inlined, without the checkpoints (and their timeline) its entry may list.
  const { checkpoints: _checkpoints, timeline: _timeline, ...inlined } = entry;
  return { default: name, models: [inlined] };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  for (const file of ['headlight.js', 'headlight.wasm']) {
    if (!existsSync(join(REPO_ROOT, 'web', 'public', 'wasm', file))) {
      throw new Error(
        `build-single: web/public/wasm/${file} is missing: run npm run build:wasm first`,
      );
    }
  }
  const distDir = mkdtempSync(join(tmpdir(), 'headlight-single-'));
  try {
    await buildPage(distDir);
    let html = readFileSync(join(distDir, 'index.html'), 'utf8');

    // The page's one chunk and stylesheet.
    const scripts = [
      ...html.matchAll(
        /<script type="module" crossorigin src="\.\/(assets\/[^"]+\.js)"><\/script>\n?/g,
      ),
    ];
    if (scripts.length !== 1)
      throw new Error(`build-single: expected one page chunk, found ${scripts.length}`);
    if (/rel="modulepreload"/.test(html))
      throw new Error('build-single: the page was split into several chunks');
    const styles = [
      ...html.matchAll(/<link rel="stylesheet" crossorigin href="\.\/(assets\/[^"]+\.css)">\n?/g),
    ];
    const pageJs = inlineSafeScript(readFileSync(join(distDir, scripts[0][1]), 'utf8'));
    const css = styles.map((m) => readFileSync(join(distDir, m[1]), 'utf8')).join('\n');
    if (/<\/style/i.test(css)) throw new Error('build-single: the stylesheet contains "</style"');
    const filesJs = inlineSafeScript(await bundleTs('web/src/embed/inline-files.ts'));

    // The files the page and worker fetch, by path relative to the HTML file.
    const model = args.modelDir ? externalModel(args.modelDir) : chooseModel(distDir, args.model);
    const files = new Map();
    const addFile = (path, bytes) => files.set(path, { type: mimeOf(path), bytes });
    addFile('wasm/headlight.js', readFileSync(join(distDir, 'wasm', 'headlight.js')));
    addFile('wasm/headlight.wasm', readFileSync(join(distDir, 'wasm', 'headlight.wasm')));
    addFile('models/index.json', Buffer.from(`${JSON.stringify(model, null, 2)}\n`));
    const modelDir = args.modelDir ?? join(distDir, 'models', model.default);
    for (const file of [...MODEL_FILES, 'README.md']) {
      if (existsSync(join(modelDir, file)))
        addFile(`models/${model.default}/${file}`, readFileSync(join(modelDir, file)));
    }
    // The Syntax view's tagged sentences (web/public/probes/), which the worker fetches.
    addFile('probes/brown-pos.json', readFileSync(join(distDir, 'probes', 'brown-pos.json')));
    // The chunk asks for its worker with new URL("worker-<hash>.js", import.meta.url):
    // inline, import.meta.url is the HTML file, so the worker sits beside it.
    for (const name of readdirSync(join(distDir, 'assets'))) {
      if (/^worker-.*\.js$/.test(name)) addFile(name, readFileSync(join(distDir, 'assets', name)));
    }
    if (![...files.keys()].some((p) => p.startsWith('worker-')))
      throw new Error('build-single: no worker chunk found');
    addFile(
      WORKER_PREAMBLE_PATH,
      Buffer.from(await bundleTs('web/src/embed/inline-files-worker.ts')),
    );

    const favicon = join(distDir, 'favicon.svg');
    const faviconUrl = existsSync(favicon)
      ? `data:image/svg+xml;base64,${readFileSync(favicon).toString('base64')}`
      : null;

    // No 'unsafe-inline', no 'unsafe-eval': the two inline scripts and the
    // stylesheet by hash; blob: for the worker and the scripts it imports from
    // the table; 'wasm-unsafe-eval' only compiles WebAssembly.
    const csp = [
      "default-src 'none'",
      `script-src ${sha256(filesJs)} ${sha256(pageJs)} blob: 'wasm-unsafe-eval'`,
      'worker-src blob:',
      'connect-src blob: data:',
      'img-src data: blob:',
      `style-src ${sha256(css)}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join('; ');

    html = html.replace(
      /<meta\s+http-equiv="Content-Security-Policy"\s+content="[^"]*"\s*\/?>/,
      () => `<meta http-equiv="Content-Security-Policy" content="${csp}" />`,
    );
    if (!html.includes(csp))
      throw new Error('build-single: the page has no CSP meta element to replace');
    html = html.replace(/<!--[\s\S]*?-->\n?\s*(?=<meta\s+http-equiv)/, '');
    html = html.replace(
      scripts[0][0],
      () =>
        `<script type="module">${filesJs}</script>\n    <script type="module">${pageJs}</script>\n`,
    );
    for (const [i, m] of styles.entries())
      html = html.replace(m[0], () => (i === 0 ? `<style>${css}</style>\n` : ''));
    html = html.replace(/<link rel="icon"[^>]*>/, () =>
      faviconUrl ? `<link rel="icon" type="image/svg+xml" href="${faviconUrl}" />` : '',
    );
    if (/(?:src|href)="\.\//.test(html))
      throw new Error('build-single: a relative reference is left in the page');

    const blocks = [...files.entries()].map(
      ([path, { type, bytes }]) =>
        `<script type="${FILE_BLOCK_TYPE}" data-path="${path}" data-type="${type}">${bytes.toString('base64')}</script>`,
    );
    html = html.replace('</body>', () => `${blocks.join('\n')}\n</body>`);

    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, html);
    const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MB`;
    const fileBytes = [...files.values()].reduce((n, f) => n + f.bytes.length, 0);
    console.log(
      `build-single: ${relative(process.cwd(), args.out)} ${mb(statSync(args.out).size)} ` +
        `(model ${model.default}; ${files.size} inlined files ${mb(fileBytes)}; page JS ${(pageJs.length / 1024).toFixed(1)} KB)`,
    );
  } finally {
    rmSync(distDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
