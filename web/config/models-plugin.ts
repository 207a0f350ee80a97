// Copies the shipped models (models/<name>/) and the test model
// (tests/fixtures/tiny-gpt/) into web/public/models/<name>/ and writes
// web/public/models/index.json (name, one-line description, download size,
// shape and parameter count of each), so `vite build` puts them in dist/ and
// the dev server serves them. Runs at buildStart, before Vite copies public/.
// A model whose folder has a training timeline (timeline.json and
// checkpoints/step-*/, written by models/recipes/timeline.mjs) gets them
// copied too, with `checkpoints` (their names) and `timeline` in its index entry: the page's
// Training view (views/timeline.ts) is offered for it.
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';

// The four files of a model folder (DESIGN.md), plus its model card if any.
const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;
const OPTIONAL_FILES = ['README.md'] as const;

// One line per shipped model for the picker. The model cards (README.md) open
// with a paragraph shared by all trained models, so the line that tells them
// apart lives here; a folder not listed falls back to its card's first paragraph.
const DESCRIPTIONS: Record<string, string> = {
  'gpt-4l-8k':
    'gpt-4l grown to an 8192-token vocabulary and trained on: the same heads (previous-token 0.1, induction 1.5, 1.6, weaker 1.2), better English.',
  'gpt-4l':
    '4 layers with MLPs, a previous-token head (0.1) and induction heads (1.2, 1.5, 1.6); trained from scratch on English.',
  'gpt-6l':
    "gpt-4l's recipe at 6 layers: a previous-token head (0.1) and one induction head (1.0), where gpt-4l has three.",
  'attn-only-2l':
    '2 attention-only layers with a previous-token head (0.2) and an induction head (1.7).',
};

// The model the page opens first, when it is served.
const PREFERRED_DEFAULT = 'gpt-4l-8k';

export interface ModelEntry {
  name: string;
  description: string;
  bytes: number;  // sum of the four model files: what the page downloads
  n_params: number;  // from the safetensors header (mask buffers and a tied lm_head excluded)
  n_layer: number;
  n_head: number;
  n_embd: number;
  n_positions: number;
  vocab_size: number;
  attn_only: boolean;
  /** Checkpoint folders of the training run (checkpoints/<name>/, each a model of the same shape): "Compare two runs" offers them. */
  checkpoints?: string[];
  /** True when timeline.json is served beside them: the Training view scrubs through them. */
  timeline?: boolean;
}

export interface ModelIndex {
  default: string;
  models: ModelEntry[];
}

interface SourceFolder {
  name: string;
  dir: string;
  fallbackDescription: string;
}

function isModelFolder(dir: string): boolean {
  return MODEL_FILES.every((file) => existsSync(join(dir, file)));
}

// The first paragraph of the model card (README.md), skipping headings and
// YAML front matter, joined across its wrapped lines, without ** emphasis,
// cut to one line of about 160 characters.
function describeFromCard(dir: string, fallback: string): string {
  const card = join(dir, 'README.md');
  if (!existsSync(card)) return fallback;
  let inFrontMatter = false;
  const paragraph: string[] = [];
  for (const raw of readFileSync(card, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '---') {
      inFrontMatter = !inFrontMatter;
      continue;
    }
    if (inFrontMatter) continue;
    if (line === '' || line.startsWith('#')) {
      if (paragraph.length > 0) break;
      continue;
    }
    paragraph.push(line);
  }
  const text = paragraph.join(' ').replace(/\*\*/g, '').trim();
  if (text === '') return fallback;
  // Whole sentences when they fit in 160 characters; else a cut at a word.
  const sentences = /^.{0,159}[.!?](?=\s|$)/.exec(text)?.[0];
  if (sentences) return sentences;
  return text.length > 160 ? `${text.slice(0, 157).replace(/\s+\S*$/, '')}...` : text;
}

// Parameter count from the safetensors header: the sum of the tensors'
// element counts, without the causal-mask buffers (h.N.attn.bias) and a
// separate lm_head (tied to wte), as the engine counts them.
function countParameters(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    readSync(fd, prefix, 0, 8, 0);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (headerLength > 100 * 1024 * 1024) throw new Error(`${file}: header of ${headerLength} bytes`);
    const header = Buffer.alloc(headerLength);
    readSync(fd, header, 0, headerLength, 8);
    const tensors = JSON.parse(header.toString('utf8')) as Record<string, { shape?: number[] }>;
    let n = 0;
    for (const [name, info] of Object.entries(tensors)) {
      if (name === '__metadata__' || name === 'lm_head.weight') continue;
      if (/(^|\.)h\.\d+\.attn\.(masked_)?bias$/.test(name)) continue;
      n += (info.shape ?? []).reduce((a, b) => a * b, 1);
    }
    return n;
  } finally {
    closeSync(fd);
  }
}

function readShape(dir: string) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const int = (key: string, ...others: string[]) => {
    for (const k of [key, ...others]) if (typeof config[k] === 'number') return config[k] as number;
    throw new Error(`${join(dir, 'config.json')}: no ${key}`);
  };
  return {
    n_layer: int('n_layer'),
    n_head: int('n_head'),
    n_embd: int('n_embd'),
    n_positions: int('n_positions', 'n_ctx'),
    vocab_size: int('vocab_size'),
    attn_only: config['attn_only'] === true,
  };
}

function findSources(repoRoot: string): SourceFolder[] {
  const sources: SourceFolder[] = [];
  const modelsDir = join(repoRoot, 'models');
  if (existsSync(modelsDir)) {
    for (const name of readdirSync(modelsDir).sort()) {
      const dir = join(modelsDir, name);
      if (statSync(dir).isDirectory() && isModelFolder(dir)) {
        sources.push({ name, dir, fallbackDescription: `Trained model ${name}` });
      }
    }
  }
  const fixture = join(repoRoot, 'tests', 'fixtures', 'tiny-gpt');
  if (isModelFolder(fixture)) {
    sources.push({
      name: 'tiny-gpt',
      dir: fixture,
      fallbackDescription: 'Test model: deterministic random weights, tiny BPE vocabulary',
    });
  }
  return sources;
}

// Copies only when size or mtime differ, so large checkpoints are not
// rewritten on every build.
function syncFile(from: string, to: string): void {
  const source = statSync(from);
  if (existsSync(to)) {
    const target = statSync(to);
    if (target.size === source.size && target.mtimeMs >= source.mtimeMs) return;
  }
  copyFileSync(from, to);
}

// timeline.json, if any, and each checkpoints/<name>/ folder that is a model
// folder, copied to outDir; the checkpoints' names and whether a timeline came.
function syncCheckpoints(dir: string, outDir: string): { names: string[]; timeline: boolean } {
  const timeline = existsSync(join(dir, 'timeline.json'));
  if (timeline) syncFile(join(dir, 'timeline.json'), join(outDir, 'timeline.json'));
  const from = join(dir, 'checkpoints');
  if (!existsSync(from)) return { names: [], timeline: false };
  const names: string[] = [];
  for (const name of readdirSync(from).sort()) {
    const checkpoint = join(from, name);
    if (!/^[\w.-]+$/.test(name) || !statSync(checkpoint).isDirectory() || !isModelFolder(checkpoint)) continue;
    const to = join(outDir, 'checkpoints', name);
    mkdirSync(to, { recursive: true });
    for (const file of MODEL_FILES) syncFile(join(checkpoint, file), join(to, file));
    names.push(name);
  }
  return { names, timeline: timeline && names.length > 0 };
}

export function syncModels(repoRoot: string, publicDir: string): ModelIndex {
  const outRoot = join(publicDir, 'models');
  mkdirSync(outRoot, { recursive: true });
  const models: ModelEntry[] = [];
  for (const source of findSources(repoRoot)) {
    const outDir = join(outRoot, source.name);
    mkdirSync(outDir, { recursive: true });
    let bytes = 0;
    for (const file of [...MODEL_FILES, ...OPTIONAL_FILES]) {
      const from = join(source.dir, file);
      if (!existsSync(from)) continue;
      syncFile(from, join(outDir, file));
      if ((MODEL_FILES as readonly string[]).includes(file)) bytes += statSync(from).size;
    }
    const checkpoints = syncCheckpoints(source.dir, outDir);
    try {
      models.push({
        name: source.name,
        description:
          DESCRIPTIONS[source.name] ?? describeFromCard(source.dir, source.fallbackDescription),
        bytes,
        n_params: countParameters(join(source.dir, 'model.safetensors')),
        ...readShape(source.dir),
        ...(checkpoints.names.length > 0 ? { checkpoints: checkpoints.names } : {}),
        ...(checkpoints.timeline ? { timeline: true } : {}),
      });
    } catch (error) {
      // One unreadable folder must not take the page's other models down.
      console.warn(`headlight-models: skipping ${source.dir}: ${(error as Error).message}`);
    }
  }
  // Trained models come first (findSources); gpt-4l-8k is the default when
  // served, the test model only when alone.
  const preferred = models.find((m) => m.name === PREFERRED_DEFAULT);
  const index: ModelIndex = { default: preferred?.name ?? models[0]?.name ?? '', models };
  writeFileSync(join(outRoot, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

export function headlightModels(): Plugin {
  let repoRoot = '';
  let publicDir = '';
  return {
    name: 'headlight-models',
    configResolved(config) {
      repoRoot = resolve(config.root, '..');
      publicDir = config.publicDir;
    },
    buildStart() {
      const index = syncModels(repoRoot, publicDir);
      if (index.models.length === 0) {
        this.warn('no model found in models/*/ or tests/fixtures/tiny-gpt/: the page will say so');
      }
    },
  };
}
