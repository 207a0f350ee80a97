/**
 * Open your own model: the reader gives a folder or files (file input or
 * drag-and-drop); this finds the four files of a GPT-2 folder, checks what
 * can be checked cheaply (names, the safetensors header, config.json through
 * the engine's own parser, and the memory the model would take) BEFORE the
 * weights are read or anything large reaches the worker, then reads the files
 * with progress and hands them to the worker, which swaps the model in only
 * if it loads. Every refusal is an OpenLocalError whose message says what is
 * wrong and what to do; the loaded model keeps working.
 */
import type { EngineClient } from './client';
import type { MemoryEstimate } from './headlight-wasm';
import type { LoadedModel, Progress } from './protocol';

/** The four files of a model folder (DESIGN.md), in the order they are read. */
export const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'] as const;
export type ModelFileName = (typeof MODEL_FILES)[number];

/**
 * Wasm memory: 32-bit addresses, so at most 4 GiB; a browser tab seldom gets
 * all of it (the page, the worker's JS copies and the GPU share the process),
 * so models whose estimate passes 3 GiB are refused up front.
 */
export const WASM_ADDRESS_SPACE_BYTES = 4 * 1024 ** 3;
export const PRACTICAL_MEMORY_LIMIT_BYTES = 3 * 1024 ** 3;

// A safetensors header is JSON of a few KB to a few MB; beyond this the file
// is not one (the first 8 bytes of a random file read as a huge length).
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** A refusal to show the reader as is. */
export class OpenLocalError extends Error {
  override name = 'OpenLocalError';
}

export interface ModelFileSet {
  /** Folder name when known ("gpt2"), else empty (files chosen one by one). */
  folder: string;
  files: Record<ModelFileName, File>;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function folderOf(file: File): string {
  // webkitRelativePath is "gpt2/config.json" for a chosen folder; dropped
  // folders get the same shape from readDroppedItems below.
  const path = file.webkitRelativePath || '';
  const parts = path.split('/').filter((p) => p.length > 0);
  return parts.length >= 2 ? parts[parts.length - 2]! : '';
}

/**
 * Picks the four model files out of what the reader gave, by file name. A
 * folder may hold more (README.md, tokenizer.json, pytorch_model.bin, ...):
 * those are ignored. Throws an OpenLocalError naming every missing file.
 */
export function findModelFiles(given: Iterable<File>): ModelFileSet {
  const byName = new Map<string, File[]>();
  for (const file of given) {
    const name = baseName(file.webkitRelativePath || file.name);
    byName.set(name, [...(byName.get(name) ?? []), file]);
  }
  const missing = MODEL_FILES.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    const names = [...byName.keys()];
    const hints: string[] = [];
    if (missing.includes('model.safetensors') && names.some((n) => n.endsWith('.bin'))) {
      hints.push(
        'pytorch_model.bin is not read (it is a Python pickle): take model.safetensors from the same Hugging Face repository.',
      );
    }
    if (
      (missing.includes('vocab.json') || missing.includes('merges.txt')) &&
      names.includes('tokenizer.json')
    ) {
      hints.push('tokenizer.json alone is not enough: GPT-2 repositories also have vocab.json and merges.txt.');
    }
    const list = missing.join(', ');
    throw new OpenLocalError(
      `Missing ${list}. A model folder needs config.json, model.safetensors, vocab.json and ` +
        `merges.txt (any Hugging Face GPT-2 folder has them).${hints.length ? ` ${hints.join(' ')}` : ''}`,
    );
  }
  const files = {} as Record<ModelFileName, File>;
  for (const name of MODEL_FILES) {
    const candidates = byName.get(name)!;
    // Several folders at once: take the shallowest copy (the folder the reader chose).
    candidates.sort(
      (a, b) => (a.webkitRelativePath || a.name).split('/').length - (b.webkitRelativePath || b.name).split('/').length,
    );
    files[name] = candidates[0]!;
  }
  const folder = folderOf(files['model.safetensors']) || folderOf(files['config.json']);
  return { folder, files };
}

/**
 * The files of a drop: dropped folders are walked (FileSystemDirectoryEntry),
 * each file given the relative path a folder input would give it.
 */
export async function readDroppedItems(transfer: DataTransfer): Promise<File[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0) return [...loose, ...Array.from(transfer.files)];
  const files: File[] = [...loose];
  const walk = async (entry: FileSystemEntry, path: string, depth: number): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      files.push(withRelativePath(file, path + entry.name));
      return;
    }
    // Model folders are flat; two levels cover "models/gpt2/config.json".
    if (!entry.isDirectory || depth > 2) return;
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      // readEntries returns at most ~100 entries per call: read until empty.
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
        reader.readEntries(resolve, reject),
      );
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, `${path}${entry.name}/`, depth + 1);
    }
  };
  for (const entry of entries) await walk(entry, '', 0);
  return files;
}

function withRelativePath(file: File, path: string): File {
  if (!path.includes('/')) return file;
  // webkitRelativePath is read-only on File; shadow it on this instance.
  Object.defineProperty(file, 'webkitRelativePath', { value: path });
  return file;
}

/** Checks the safetensors container's first bytes without reading the weights. */
export async function checkSafetensorsHeader(file: File): Promise<void> {
  const where = 'model.safetensors';
  if (file.size < 8) throw new OpenLocalError(`${where} is ${file.size} bytes: it is empty or cut short.`);
  const prefix = new DataView(await file.slice(0, 8).arrayBuffer());
  const headerBytes = Number(prefix.getBigUint64(0, true));
  if (headerBytes >= 2 && headerBytes <= MAX_HEADER_BYTES && 8 + headerBytes > file.size) {
    throw new OpenLocalError(
      `${DAMAGED} its header length reads as ${headerBytes} bytes, but only ${file.size - 8} bytes follow.`,
    );
  }
  if (headerBytes < 2 || headerBytes > MAX_HEADER_BYTES) {
    throw new OpenLocalError(
      `${where} is not a safetensors file (its header length reads as ${headerBytes} bytes in a ` +
        `file of ${file.size}).`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(await file.slice(8, 8 + headerBytes).text());
  } catch {
    throw new OpenLocalError(`${where} is not a safetensors file: its header is not JSON.`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) {
    throw new OpenLocalError(`${where} is not a safetensors file: its header is not a JSON object.`);
  }
}

/** The plain sentence that comes first in every error of a cut-short or damaged weights file. */
const DAMAGED = `model.safetensors is cut short or damaged (it ends before the data its header describes): copy or download it again. Details:`;

/**
 * The engine's errors that mean the file ends too early or its header
 * points past its end (wasm/core/safetensors.cpp: "file truncated", "header
 * length N past end of file", "data_offsets [a, b] outside the data section",
 * "does not fit this file's data").
 */
const DAMAGED_FILE_ERRORS =
  /safetensors: (file truncated|header length \d+ past end of file|tensor .* data_offsets \[\d+, \d+\] outside the data section|tensor .* does not fit this file's data)/;

/**
 * A load error as the reader should read it: one of the cut-short family
 * gets the plain sentence first, any other comes back unchanged.
 */
export function explainLoadError(message: string): string {
  return DAMAGED_FILE_ERRORS.test(message) && !message.startsWith(DAMAGED) ? `${DAMAGED} ${message}` : message;
}

export function formatMemory(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  return `${Math.max(1, Math.round(bytes / 1024 ** 2))} MB`;
}

function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)}M`;
  return `${(n / 1e3).toFixed(0)}k`;
}

/** The refusal for a model whose estimate passes the practical limit, or null. */
export function memoryRefusal(estimate: MemoryEstimate): string | null {
  if (estimate.peak_bytes <= PRACTICAL_MEMORY_LIMIT_BYTES) return null;
  const parts = [
    `weights ${formatMemory(estimate.weights_bytes)}`,
    `their packed copy ${formatMemory(estimate.packed_bytes)}`,
    `attention and activations at ${estimate.n_positions} tokens ${formatMemory(
      estimate.trace_bytes + estimate.session_bytes,
    )}`,
  ];
  return (
    `This model is too big for the browser: ${formatParams(estimate.n_params)} parameters ` +
    `(${estimate.n_layer} layers, ${estimate.n_head} heads, d_model ${estimate.n_embd}) need about ` +
    `${formatMemory(estimate.peak_bytes)} of WebAssembly memory (${parts.join(', ')}). ` +
    `WebAssembly gives a page at most ${formatMemory(WASM_ADDRESS_SPACE_BYTES)}, and about ` +
    `${formatMemory(PRACTICAL_MEMORY_LIMIT_BYTES)} in practice. Nothing was loaded; ` +
    `GPT-2 small (124M parameters) fits.`
  );
}

const PROGRESS_INTERVAL_MS = 50;

/** Reads files into one buffer each, reporting bytes over all of them. */
async function readAll(
  files: File[],
  onProgress: (progress: Progress) => void,
): Promise<Uint8Array[]> {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  let done = 0;
  let lastReport = 0;
  const out: Uint8Array[] = [];
  for (const file of files) {
    const label = `reading ${file.name}`;
    const bytes = new Uint8Array(file.size);
    let offset = 0;
    const reader = file.stream().getReader();
    onProgress({ label, loaded: done, total });
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      if (offset + value.length > bytes.length) {
        throw new OpenLocalError(`${file.name} changed while it was read: open it again.`);
      }
      bytes.set(value, offset);
      offset += value.length;
      const now = performance.now();
      if (now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        onProgress({ label, loaded: done + offset, total });
      }
    }
    if (offset !== bytes.length) {
      throw new OpenLocalError(`${file.name} changed while it was read: open it again.`);
    }
    done += offset;
    out.push(bytes);
  }
  onProgress({ label: 'read all files', loaded: total, total });
  return out;
}

function utf8(bytes: Uint8Array, file: ModelFileName): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new OpenLocalError(`${file} is not UTF-8 text.`);
  }
}

export interface OpenLocalResult {
  model: LoadedModel;
  estimate: MemoryEstimate;
  read_ms: number;
}

/**
 * Checks, reads and loads the model in `given`. The worker gets the files
 * only after every check passed; if it cannot load them it keeps its model.
 */
export async function openLocalModel(
  client: EngineClient,
  given: Iterable<File>,
  onProgress: (progress: Progress) => void,
): Promise<OpenLocalResult> {
  const { folder, files } = findModelFiles(given);
  onProgress({ label: 'checking the files', loaded: 0, total: 0, timed: true });
  await checkSafetensorsHeader(files['model.safetensors']);
  const configJson = utf8(new Uint8Array(await files['config.json'].arrayBuffer()), 'config.json');

  // The engine parses config.json (its errors name the key) and sizes the model.
  let estimate: MemoryEstimate;
  try {
    estimate = await client.call('estimateMemory', {
      configJson,
      safetensorsBytes: files['model.safetensors'].size,
    });
  } catch (error) {
    throw new OpenLocalError(`${error instanceof Error ? error.message : String(error)}`);
  }
  const refusal = memoryRefusal(estimate);
  if (refusal) throw new OpenLocalError(refusal);

  const t0 = performance.now();
  const [, safetensors, vocab, merges] = await readAll(
    MODEL_FILES.map((name) => files[name]),
    onProgress,
  );
  const read_ms = performance.now() - t0;
  const vocabJson = utf8(vocab!, 'vocab.json');
  const mergesTxt = utf8(merges!, 'merges.txt');
  const model = await client.call(
    'loadModelFiles',
    {
      name: folder ? `${folder} (your files)` : 'your files',
      configJson,
      safetensors: safetensors!,
      vocabJson,
      mergesTxt,
    },
    onProgress,
    // The worker is the only reader of the weights: move them, do not copy.
    [safetensors!.buffer as ArrayBuffer],
  );
  return { model, estimate, read_ms };
}
