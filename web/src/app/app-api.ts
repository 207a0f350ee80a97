/**
 * The page's public API: what other parts of Headlight (the embed element,
 * the iframe postMessage bridge, tests) may call to drive the explorer. It is
 * window-free: app/boot.ts creates the app and hands it to `provideApp`; other
 * modules `await whenApp()`. Everything here is plain data that survives
 * structured clone (postMessage) and JSON.
 */

import type { HeadEdit, HeadRef } from '../state/heads';
import type { Choices } from '../state/choices';
import type { AttentionSource, ColorMode, PanelName, ViewMode } from '../state/url-state';

export type { HeadEdit, HeadRef } from '../state/heads';
export { PANELS } from '../state/url-state';
export type { AttentionSource, ColorMode, PanelName, ViewMode } from '../state/url-state';

/**
 * Everything the reader chose: what the URL hash stores, under the field
 * names of its property table (state/url-state.ts: model, text, edits,
 * selectedHead, selectedPosition, view, colorMode, source, hidden, embed),
 * plus the loaded model's shape. `edits` lists only heads whose gain is not
 * 1, in (layer, head) order; `selectedPosition` is clamped to the text's
 * tokens when drawn; `embed` is true in the iframe embed mode.
 */
export interface AppSnapshot extends Choices {
  n_layer: number;
  n_head: number;
}

/** What the last forward pass showed: the figures a host page may want. */
export interface AnalysisSummary {
  model: string;
  T: number;
  tokens: string[];
  mean_loss: number;
  /** Mean loss of the unedited model on the same text. */
  baseline_mean_loss: number;
  /** Top-k next tokens at the selected position, edited model. */
  top_k: { token: string; id: number; prob: number }[];
}

export type ChangeReason =
  | 'model'
  | 'text'
  | 'edits'
  | 'selection'
  | 'view'
  | 'hidden'
  | 'analysis'
  | 'url';

export type ChangeListener = (state: AppSnapshot, reason: ChangeReason) => void;

export interface HeadlightApp {
  getState(): AppSnapshot;
  /** The last drawn analysis, or null before the first one. */
  getAnalysis(): AnalysisSummary | null;
  setText(text: string): void;
  /** Replaces all edits: heads not listed go back to gain 1. Out-of-range heads are ignored with a notice. */
  setEdits(edits: HeadEdit[]): void;
  setGain(layer: number, head: number, gain: number): void;
  /** Mutes (gain 0) exactly these heads, all others back to 1. */
  setMuted(heads: HeadRef[]): void;
  resetEdits(): void;
  selectHead(layer: number, head: number): void;
  selectPosition(position: number): void;
  setView(view: ViewMode): void;
  setColorMode(mode: ColorMode): void;
  /** Token colours in attention mode: the selected head or the mean over unmuted heads. */
  setSource(source: AttentionSource): void;
  /** Hides exactly these panels (others shown). */
  setHidden(panels: PanelName[]): void;
  /**
   * Loads a served model by name; resolves when it is loaded and drawn,
   * rejects with the reason when it cannot be (the previous model stays).
   */
  setModel(name: string): Promise<void>;
  /** Calls back after every change (reason says what); returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  /** Resolves once a model is loaded and the first analysis is drawn. */
  ready(): Promise<void>;
}

/** The app once built, and who waits for it (filled once by app/boot.ts). */
const provided: { app: HeadlightApp | null; waiting: ((app: HeadlightApp) => void)[] } = {
  app: null,
  waiting: [],
};

/** Called once by app/boot.ts after building the app. */
export function provideApp(app: HeadlightApp): void {
  provided.app = app;
  for (const resolve of provided.waiting.splice(0)) resolve(app);
}

/** The running app (resolves as soon as app/boot.ts has built it; see app.ready() for the model). */
export function whenApp(): Promise<HeadlightApp> {
  if (provided.app) return Promise.resolve(provided.app);
  return new Promise((resolve) => provided.waiting.push(resolve));
}

/** Small listener set used by the app implementation. */
export class ChangeEmitter {
  private readonly listeners = new Set<ChangeListener>();

  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(state: AppSnapshot, reason: ChangeReason): void {
    for (const listener of this.listeners) {
      try {
        listener(state, reason);
      } catch (error) {
        // A host's broken listener must not break the page.
        console.warn('Headlight onChange listener failed:', error);
      }
    }
  }
}
