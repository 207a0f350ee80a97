/**
 * The single-file build's file table, page side (scripts/build-single.mjs
 * inlines this script first). Opened from disk (file://), Chromium refuses
 * fetch() and workers from files, so the build puts every file the page needs
 * (wasm/, models/, the worker script) into the HTML as base64 data blocks,
 *
 *   <script type="application/x-headlight-file" data-path="wasm/headlight.wasm"
 *           data-type="application/wasm">AGFzbQ...</script>
 *
 * (data blocks are never executed, so the CSP has nothing to allow), and this
 * script serves them:
 * - fetch() of a URL inside the page's folder answers from the table, so the
 *   page's own code (index.json, model files) runs unchanged;
 * - `new Worker(url)` for a tabled script starts the worker from a Blob, with
 *   inline-files-worker.js in front, and sends it the table as its first
 *   message, so the worker's fetch() and importScripts() read the table too.
 * Anything not in the table goes to the real fetch and fails as it would.
 */
import {
  FILE_BLOCK_TYPE,
  FILES_MESSAGE_KEY,
  type FilesMessage,
  type InlineFile,
  responseFor,
  tablePath,
  WORKER_PREAMBLE_PATH,
} from './inline-files-table';

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/\s+/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Reads the data blocks into Blobs and removes them: their text is the DOM's biggest part. */
export function readFileBlocks(doc: Document): Map<string, InlineFile> {
  const files = new Map<string, InlineFile>();
  for (const block of doc.querySelectorAll<HTMLScriptElement>(
    `script[type="${FILE_BLOCK_TYPE}"]`,
  )) {
    const path = block.dataset['path'];
    if (!path) continue;
    const type = block.dataset['type'] ?? 'application/octet-stream';
    files.set(path, { type, blob: new Blob([decodeBase64(block.textContent ?? '')], { type }) });
    block.remove();
  }
  return files;
}

function requestUrl(input: RequestInfo | URL): string {
  return input instanceof Request ? input.url : String(input);
}

function install(): void {
  const files = readFileBlocks(document);
  if (files.size === 0) return; // not the single-file build: nothing to serve
  // The "Copy embed code" dialog reads this: no embed snippet works from this file.
  document.documentElement.dataset['singleFile'] = 'true';
  const base = new URL('./', document.baseURI).href;
  const lookup = (url: string | URL) => {
    const path = tablePath(url, base);
    return path === null ? undefined : files.get(path);
  };

  const realFetch = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const file = lookup(requestUrl(input));
    return file ? Promise.resolve(responseFor(file)) : realFetch(input, init);
  };

  const preamble = files.get(WORKER_PREAMBLE_PATH);
  const RealWorker = window.Worker;
  const message: FilesMessage = { base, files: [...files.entries()] };
  window.Worker = class InlineWorker extends RealWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      const file = lookup(url);
      const source =
        file && preamble
          ? URL.createObjectURL(
              new Blob([preamble.blob, '\n', file.blob], { type: 'text/javascript' }),
            )
          : url;
      super(source, options);
      // The first message, before any of the page's: the worker preamble takes it.
      if (file && preamble) this.postMessage({ [FILES_MESSAGE_KEY]: message });
    }
  };
}

install();
