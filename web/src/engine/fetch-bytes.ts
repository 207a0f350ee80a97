/**
 * Downloads with progress: the worker's model and engine files, and the
 * page's checkpoint files (app/checkpoint-files.ts). A report every 50 ms at
 * most; the total is the server's content-length (0 when it gives none).
 */
import type { LocalModelFiles, Progress } from './protocol';

const PROGRESS_INTERVAL_MS = 50;

export async function fetchBytes(url: string, label: string, report: (p: Progress) => void) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`could not download ${label} (${url}): HTTP ${response.status}`);
  }
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    report({ label, loaded: bytes.length, total: bytes.length });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  report({ label, loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    const now = performance.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      report({ label, loaded, total });
    }
  }
  report({ label, loaded, total: Math.max(total, loaded) });
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

export async function fetchText(url: string, label: string, report: (p: Progress) => void) {
  return new TextDecoder('utf-8', { fatal: true }).decode(await fetchBytes(url, label, report));
}

/** The four files of the model folder at baseUrl. */
export async function fetchModelFiles(name: string, baseUrl: string | URL, report: (p: Progress) => void): Promise<LocalModelFiles> {
  const file = (f: string) => new URL(f, baseUrl).href;
  const configJson = await fetchText(file('config.json'), 'config.json', report);
  const safetensors = await fetchBytes(file('model.safetensors'), 'model.safetensors', report);
  const vocabJson = await fetchText(file('vocab.json'), 'vocab.json', report);
  const mergesTxt = await fetchText(file('merges.txt'), 'merges.txt', report);
  return { name, configJson, safetensors, vocabJson, mergesTxt };
}
