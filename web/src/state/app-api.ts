/**
 * The page's public API: what other parts of Headlight (the embed element,
 * the iframe postMessage bridge, tests) may call to drive the explorer. It is
 * window-free: main.ts creates the app and hands it to `provideApp`; other
 * modules `await whenApp()`. Everything here is plain data that survives
 * structured clone (postMessage) and JSON.
 */

export type ViewMode = 'heatmap' | 'lines';
export type ColorMode = 'loss' | 'attention';

/** Panels a lesson can hide (URL `hide=edits,picker`, TensorFlow Playground style). */
export const PANELS = [
  'header',      // title, tagline and model bar
  'picker',      // model picker and "open your own"
  'presets',     // preset prompt buttons
  'text',        // the text box (the token chips stay)
  'tokens',      // token chips
  'predictions', // next-token bars
  'heads',       // head grid
  'detail',      // selected head's large heatmap / line view and gain slider
  'edits',       // edits list, reset, ablation mode
  'export',      // export buttons
  'footer',      // colophon
] as const;
export type PanelName = (typeof PANELS)[number];

export interface HeadRef {
  layer: number;
  head: number;
}

/** One edited head: gain 0 = muted, 1 = as trained, up to 2. */
export interface HeadEdit extends HeadRef {
  gain: number;
}

/** Everything the reader chose: what the URL hash stores. */
export interface AppSnapshot {
  /** Model name as in models/index.json (null before the first load). */
  model: string | null;
  n_layer: number;
  n_head: number;
  text: string;
  /** Only heads whose gain is not 1, in (layer, head) order. */
  edits: HeadEdit[];
  selectedHead: HeadRef;
  /** Query position (token index); clamped to the text's tokens when drawn. */
  selectedPosition: number;
  view: ViewMode;
  colorMode: ColorMode;
  hidden: PanelName[];
  /** True in the iframe embed mode (`?embed=1` or `#embed=1`). */
  embed: boolean;
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
  /** Hides exactly these panels (others shown). */
  setHidden(panels: PanelName[]): void;
  /** Loads a served model by name; resolves when it is loaded and drawn. */
  setModel(name: string): Promise<void>;
  /** Calls back after every change (reason says what); returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  /** Resolves once a model is loaded and the first analysis is drawn. */
  ready(): Promise<void>;
}

let provided: HeadlightApp | null = null;
const waiting: ((app: HeadlightApp) => void)[] = [];

/** Called once by main.ts after building the app. */
export function provideApp(app: HeadlightApp): void {
  provided = app;
  for (const resolve of waiting.splice(0)) resolve(app);
}

/** The running app (resolves as soon as main.ts has built it; see app.ready() for the model). */
export function whenApp(): Promise<HeadlightApp> {
  if (provided) return Promise.resolve(provided);
  return new Promise((resolve) => waiting.push(resolve));
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
