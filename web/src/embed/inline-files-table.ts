/**
 * The single-file build's file table: what the page side (inline-files.ts)
 * and the worker side (inline-files-worker.ts) share. No side effects.
 */

export const FILE_BLOCK_TYPE = 'application/x-headlight-file';
/** The worker preamble's own path in the table. */
export const WORKER_PREAMBLE_PATH = 'inline-files-worker.js';
/** Key of the first message to a worker: { [FILES_MESSAGE_KEY]: FilesMessage }. */
export const FILES_MESSAGE_KEY = 'headlightInlineFiles';

export interface InlineFile {
  type: string;
  blob: Blob;
}

export interface FilesMessage {
  /** The page's folder: table paths are relative to it. */
  base: string;
  files: [path: string, file: InlineFile][];
}

/** The table path of `url` (resolved against `base`), or null when it lies outside the folder. */
export function tablePath(url: string | URL, base: string): string | null {
  let resolved: URL;
  try {
    resolved = new URL(url, base);
  } catch {
    return null;
  }
  resolved.hash = '';
  resolved.search = '';
  if (!resolved.href.startsWith(base)) return null;
  return decodeURIComponent(resolved.href.slice(base.length));
}

export function responseFor(file: InlineFile): Response {
  return new Response(file.blob, {
    status: 200,
    headers: { 'content-type': file.type, 'content-length': String(file.blob.size) },
  });
}
