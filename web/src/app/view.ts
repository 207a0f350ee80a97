/**
 * The one View contract. Every view of the page is made by a ViewFactory
 * from the same ViewContext and draws from the same Frame object, which the
 * analysis store (app/analysis-store.ts) builds and hands to every view in
 * the registry (app/views.ts) in turn. A view never computes model
 * quantities: it draws what the frame holds and asks the page for changes
 * through `context.page`.
 */
import type { EngineClient } from '../engine/client';
import type { Analysis, ComputeMethod, LoadedModel, Methods, Progress } from '../engine/protocol';
import type { AppState } from '../state/app-state';
import type { HeadRef } from '../state/heads';
import type { Predictions } from '../views/predictions';
import type { Tooltip } from '../views/tooltip';
import type { CircuitStore } from './circuit-store';
import type { CopyingStore } from './copying-store';

/**
 * Why a frame is drawn; a view skips what a reason does not touch (the
 * head-edit click path draws 'gains' frames, which only mark heads):
 *   analysis     a new analysis: every view, attention from `fromLayer` up
 *   selection    the selected head or position, or a display choice changed
 *   predictions  the bars of a newer pass arrived ahead of its attention
 *   gains        the reader's gains changed (or a model loaded), not yet run
 *   empty-text   the text box is empty: nothing to run
 */
export type FrameReason = 'analysis' | 'selection' | 'predictions' | 'gains' | 'empty-text';

/** What the predictions view shows: the figures of one pass at one position. */
export interface ShownPredictions {
  predictions: Predictions;
  /** The pass's place in the order of requests. */
  pass: number;
  /** True when that pass's gains edit a head (ghost bars). */
  edited: boolean;
}

export interface Frame {
  reason: FrameReason;
  /** The reader's choices now (live: read at draw time or at a click). */
  state: Readonly<AppState>;
  /** The loaded model (frames are drawn only once one is loaded). */
  model: LoadedModel;
  /** The analysis the attention views draw (null before the first one). */
  analysis: Analysis | null;
  /** With 'analysis': the lowest layer whose attention changed since the last drawn frame. */
  fromLayer: number;
  /** The selected head. */
  head: HeadRef;
  /** The selected query position clamped to analysis.T (-1 without an analysis). */
  position: number;
  /** The bars to show (a newer pass than `analysis` after a head edit); null with 'gains' and 'empty-text'. */
  predictions: ShownPredictions | null;
}

/** What a view may ask of the page. */
export interface PageActions {
  /** Changes the gains in place (throws a message for a bad head or gain) and runs the model. */
  edit(apply: (state: AppState) => void): void;
  /** The edit a click is about to make: the worker may compute it ahead. Never changes the state. */
  prepareEdit(apply: (ahead: AppState) => void): void;
  selectHead(layer: number, head: number): void;
  selectPosition(position: number): void;
  /** Shows a new text (resetPosition: select its last token) and runs the model. */
  setText(text: string, resetPosition: boolean): void;
  setDisplay<F extends 'view' | 'colorMode' | 'source'>(field: F, value: AppState[F]): void;
  /** The circuit choices (answer, foil, corrupted prompt, patched heads): URL written, a 'selection' frame drawn. */
  setCircuit(change: Partial<Pick<AppState, CircuitField>>): void;
  showError(message: string): void;
  /** Opens model files in the explorer as the reader's own (a model trained in the page); the error, or null. */
  openModelFiles(files: File[]): Promise<string | null>;
  /**
   * Loads a served model or a checkpoint of one (engine/checkpoint-names.ts)
   * as the page's model, as the model picker does; resolves to the error
   * shown (the previous model stays) or null. report: the download's progress.
   */
  openModel(name: string, report?: (progress: Progress) => void): Promise<string | null>;
  /**
   * Asks the engine worker a question about the pass on screen (one head's
   * arithmetic, a composition): the worker answers after the runs asked
   * before it, so the answer is of the pass the frame shows or a newer one.
   */
  compute<M extends ComputeMethod>(method: M, params: Methods[M]['params']): Promise<Methods[M]['result']>;
}

/** The choices of the circuit views (issue 17). */
export type CircuitField =
  'answer' | 'foil' | 'corrupted' | 'patchedHeads' | 'patchMetric' | 'runPair' | 'runText' | 'runModel';

export interface ViewContext {
  /** The page's document body: a view finds its elements by data-role in it. */
  root: HTMLElement;
  tooltip: Tooltip;
  page: PageActions;
  /**
   * The engine worker, for a view whose analysis is not part of every pass:
   * the syntax probe, and the analyses the reader starts (which heads matter:
   * views/importance.ts); the frames carry the rest.
   */
  engine: Pick<EngineClient, 'call'>;
  /** The lens, attribution and patching figures of the drawn analysis (app/circuit-store.ts). */
  circuits: CircuitStore;
  /** The loaded model's copying scores: at load, or computed in parts after (app/copying-store.ts). */
  copying: CopyingStore;
}

export interface View {
  /** Name in the timing line. */
  label: string;
  draw(frame: Frame): void;
  /** What the last draw did, for the timing line (e.g. "for 32 heads"); none: not listed. */
  timingNote?(): string;
}

export type ViewFactory = (context: ViewContext) => View;
