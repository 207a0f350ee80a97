/**
 * The single-file build's file table, worker side: inline-files.ts puts this
 * preamble in front of the engine worker's script and sends the table as the
 * worker's first message. From then on the worker's fetch() and
 * importScripts() read tabled files (the wasm module, the model) from memory.
 * The table is posted right after the worker is created, so it is handled
 * before the page's first request, which comes after it in the same queue.
 */
import {
  FILES_MESSAGE_KEY,
  type FilesMessage,
  type InlineFile,
  responseFor,
  tablePath,
} from './inline-files-table';

interface PreambleScope {
  fetch: typeof fetch;
  importScripts(...urls: string[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}
const scope = self as unknown as PreambleScope;

/** The tabled files by path, below `base` (filled by the first message). */
const held: { base: string; files: Map<string, InlineFile> } = { base: '', files: new Map() };

function lookup(url: string): InlineFile | undefined {
  const path = tablePath(url, held.base);
  return path === null ? undefined : held.files.get(path);
}

const onFiles = (event: MessageEvent) => {
  const data = event.data as Record<string, FilesMessage> | null;
  const table = data?.[FILES_MESSAGE_KEY];
  if (!table) return;
  // This message is for the preamble only: the worker's own handler never sees it.
  event.stopImmediatePropagation();
  scope.removeEventListener('message', onFiles);
  held.base = table.base;
  for (const [path, file] of table.files) held.files.set(path, file);
};
scope.addEventListener('message', onFiles);

const realFetch = scope.fetch.bind(scope);
scope.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const file = lookup(input instanceof Request ? input.url : String(input));
  return file ? Promise.resolve(responseFor(file)) : realFetch(input, init);
};

const realImportScripts = scope.importScripts.bind(scope);
scope.importScripts = (...urls: string[]) => {
  realImportScripts(
    ...urls.map((url) => {
      const file = lookup(url);
      return file ? URL.createObjectURL(file.blob) : url;
    }),
  );
};
