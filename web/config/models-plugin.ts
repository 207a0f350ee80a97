// Copies the shipped models (models/<name>/) and the test model
// (tests/fixtures/tiny-gpt/) into web/public/models/<name>/ and writes
// web/public/models/index.json, so `vite build` puts them in dist/ and the dev
// server serves them. Runs at buildStart, before Vite copies public/.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';

// The four files of a model folder (DESIGN.md), plus its model card if any.
const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;
const OPTIONAL_FILES = ['README.md'] as const;

export interface ModelEntry {
  name: string;
  description: string;
  bytes: number;  // sum of the four model files: what the page downloads
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

// The first paragraph line of the model card (README.md), skipping headings and
// YAML front matter; the card is ours, but keep the line short anyway.
function describe(dir: string, fallback: string): string {
  const card = join(dir, 'README.md');
  if (!existsSync(card)) return fallback;
  let inFrontMatter = false;
  for (const raw of readFileSync(card, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '---') {
      inFrontMatter = !inFrontMatter;
      continue;
    }
    if (inFrontMatter || line === '' || line.startsWith('#')) continue;
    return line.length > 160 ? `${line.slice(0, 157)}...` : line;
  }
  return fallback;
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
    models.push({
      name: source.name,
      description: describe(source.dir, source.fallbackDescription),
      bytes,
    });
  }
  // Trained models come first; the test model is the default only when alone.
  const index: ModelIndex = { default: models[0]?.name ?? '', models };
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
