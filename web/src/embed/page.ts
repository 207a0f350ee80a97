/**
 * What the embedding features add to the page, in one call from app/boot.ts:
 * the iframe embed mode (`?embed=1`: compact layout and an "Open in
 * Headlight" link), the "Copy embed code" button and dialog in the full page,
 * and the postMessage API whenever the page runs inside a frame.
 */
import './embed.css';
import type { HeadlightApp } from '../app/app-api';
import { startEmbedBridge } from './embed-bridge';
import { installEmbedDialog } from './embed-dialog';
import { isEmbedUrl, startEmbedMode } from './embed-mode';

/** Where the "Copy embed code" button goes: a slot in index.html, else the model bar. */
function buttonSlot(): HTMLElement {
  return (
    document.querySelector<HTMLElement>('[data-role="embed-slot"]') ??
    document.querySelector<HTMLElement>('.model-bar') ??
    document.body
  );
}

export function installEmbedding(app: HeadlightApp): void {
  if (app.getState().embed || isEmbedUrl(window.location.href)) {
    startEmbedMode(app);
  } else {
    installEmbedDialog(app, buttonSlot());
  }
  startEmbedBridge(app);
}
