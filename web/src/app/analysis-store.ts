/**
 * The analysis store: runs the engine on the reader's newest text and gains
 * (one analyze in flight, LatestRunner), numbers the passes in the order of
 * their requests, holds the analysis on screen, and schedules the frames the
 * views draw (app/view.ts).
 *
 * After a head edit on the same tokens, the worker answers in two messages:
 * first the predictions at the shown position (PredictionsPart: it reran
 * the edited layers and the LM head at that one position), then everything
 * else: every position's predictions and losses (AnalysisCore) and the
 * attention. The bars are drawn the moment the first arrives, the mean loss
 * the moment the second does; the attention views (head grid, detail,
 * tokens) once the frame with the bars is painted, so the bars never wait
 * for 32 heatmaps. A new text or model draws everything at once.
 */
import type { EngineClient } from '../engine/client';
import type { Analysis, AnalysisCore, PredictionsPart } from '../engine/protocol';
import { type AppState, countMuted, TOP_K } from '../state/app-state';
import { clampPosition } from '../state/position';
import type { PendingMark } from '../views/pending-mark';
import type { StatusView } from '../views/status';
import { predictionsOf, predictionsOfPart } from '../views/predictions';
import type { AnalysisSummary } from './app-api';
import { HeldAttention } from './held-attention';
import { LatestRunner } from './latest-runner';
import { meanFlags } from './mean-ablation';
import { afterNextPaint } from './paint';
import type { Frame, FrameReason, ShownPredictions } from './view';
import type { ViewSet } from './views';

interface Drawing {
  next: Analysis;
  /** The analysis' place in the order of requests. */
  seq: number;
  /** Lowest layer whose attention changed since the grid was last drawn. */
  fromLayer: number;
  roundTripMs: number;
  /** When the predictions were drawn ahead of the rest (ms after the request), else null. */
  predictionsMs: number | null;
}

export interface StoreHooks {
  /** Before an analysis is drawn, and when a run ends without one (the URL write that waited for it). */
  settled(): void;
  /** The figures of an analysis are up (getAnalysis() has them). */
  announce(): void;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const edits = (gains: Float32Array, means: Int32Array) => gains.some((gain) => gain !== 1) || means.some((flag) => flag !== 0);

export class AnalysisStore {
  /**
   * What is on screen: `analysis` (every view draws it) with its seq, and
   * what the predictions show ahead of it: the AnalysisCore of a newer pass,
   * or (newer still) that pass's PredictionsPart.
   */
  private readonly shown: {
    analysis: Analysis | null;
    seq: number;
    core: { seq: number; core: AnalysisCore } | null;
    part: { seq: number; part: PredictionsPart } | null;
  } = { analysis: null, seq: 0, core: null, part: null };
  /** The seq of the newest request. */
  private requested = 0;
  /** An analysis waiting for the frame that shows its predictions to be painted. */
  private pending: Drawing | null = null;
  private readonly held = new HeldAttention();
  private readonly runner = new LatestRunner(() => this.analyze());
  /** Resolves the promise of ready() once the first analysis is drawn. */
  private resolveFirst: (() => void) | null = null;
  private readonly firstDrawn = new Promise<void>((resolve) => (this.resolveFirst = resolve));

  constructor(
    private readonly client: EngineClient,
    private readonly state: AppState,
    private readonly views: ViewSet,
    private readonly status: StatusView,
    private readonly hooks: StoreHooks,
    /** Marks the predictions panel while a run is slower than a frame or so. */
    private readonly pendingMark: PendingMark,
  ) {}

  /** Runs the model on the newest text and gains (again, if a run is in flight). */
  request(): void {
    this.runner.request();
  }

  /** Resolves once the first analysis is drawn. */
  ready(): Promise<void> {
    return this.firstDrawn;
  }

  /** The analysis on screen. */
  get analysis(): Analysis | null {
    return this.shown.analysis;
  }

  /** The seq of the analysis on screen. */
  get drawnSeq(): number {
    return this.shown.seq;
  }

  /** Draws a frame for `reason` ('selection' needs an analysis, every frame a model). */
  draw(reason: Exclude<FrameReason, 'analysis'>): void {
    if (!this.state.model || (reason === 'selection' && !this.shown.analysis)) return;
    this.views.draw(this.frame(reason, 0));
  }

  /**
   * The figures of the analysis the predictions show (it may be ahead of the
   * grid by a frame; the bars of a newer pass may be up a moment before it).
   */
  summary(): AnalysisSummary | null {
    const shown = this.shown.core?.core ?? this.shown.analysis;
    if (!shown) return null;
    const t = clampPosition(this.state.selectedPosition, shown.T);
    const K = shown.top_k;
    return {
      model: shown.model,
      T: shown.T,
      tokens: shown.tokens.slice(),
      mean_loss: shown.mean_loss,
      baseline_mean_loss: shown.baseline.mean_loss,
      top_k: Array.from({ length: K }, (_, i) => ({
        token: shown.top_k_tokens[t * K + i] ?? '',
        id: shown.top_k_ids[t * K + i]!,
        prob: shown.top_k_probs[t * K + i]!,
      })),
    };
  }

  private frame(reason: FrameReason, fromLayer: number): Frame {
    const state = this.state;
    const analysis = this.shown.analysis;
    const showsBars = reason === 'analysis' || reason === 'selection' || reason === 'predictions';
    return {
      reason,
      state,
      model: state.model!,
      analysis,
      fromLayer,
      head: state.selectedHead,
      position: clampPosition(state.selectedPosition, analysis?.T ?? 0),
      predictions: showsBars ? this.shownPredictions() : null,
    };
  }

  /** The bars: the part of a newer pass while it holds the shown position, else the newest core. */
  private shownPredictions(): ShownPredictions | null {
    const { analysis, part } = this.shown;
    const core = this.shown.core ?? (analysis ? { seq: this.shown.seq, core: analysis } : null);
    const position = this.state.selectedPosition;
    // The drawn tokens are those the part ran (checked when it arrived).
    if (part && analysis && (!core || part.seq > core.seq) && clampPosition(position, part.part.T) === part.part.position) {
      return { predictions: predictionsOfPart(part.part, analysis.tokens), pass: part.seq, edited: edits(part.part.gains, part.part.means) };
    }
    if (!core) return null;
    // Ghost bars when the gains of that pass (not the reader's newest ones,
    // which may be on their way to the engine) edit a head.
    return { predictions: predictionsOf(core.core, clampPosition(position, core.core.T)), pass: core.seq, edited: edits(core.core.gains, core.core.means) };
  }

  /** True when `pass` read the same tokens with the same model and top-k as the drawn analysis. */
  private sameTokensAsDrawn(pass: Pick<AnalysisCore, 'model' | 'T' | 'top_k' | 'ids' | 'gains'>): boolean {
    const drawn = this.shown.analysis;
    return (
      drawn !== null &&
      drawn.model === pass.model &&
      drawn.gains.length === pass.gains.length &&
      drawn.top_k === pass.top_k &&
      drawn.T === pass.T &&
      drawn.ids.every((id, i) => id === pass.ids[i])
    );
  }

  private async analyze(): Promise<void> {
    const state = this.state;
    if (!state.model) return;
    if (state.text.length === 0) {
      document.documentElement.dataset['stale'] = 'true';
      this.draw('empty-text');
      this.status.showNotice('The text is empty: type something and the model will read it.');
      this.hooks.settled();
      return;
    }
    const seq = ++this.requested;
    const t0 = performance.now();
    this.pendingMark.start();
    let predictionsMs: number | null = null;
    const onPredictions = (part: PredictionsPart) => {
      // Only the head gains changed: the bars go up now, the mean loss with
      // the next message, the attention views once that frame is painted.
      if (part.model !== state.model?.name || !this.sameTokensAsDrawn(part)) return;
      this.shown.part = { seq, part };
      this.draw('predictions');
      this.pendingMark.stop();
      predictionsMs = performance.now() - t0;
    };
    try {
      const { core, attention } = await this.client.call(
        'analyze',
        { text: state.text, gains: state.gains.slice(), means: meanFlags(state), topK: TOP_K, position: state.selectedPosition, heldAttention: this.held.version },
        undefined,
        [],
        onPredictions,
      );
      // Always merged, in order: the next request's attention builds on it.
      const attn = this.held.merge(attention, core);
      if (core.model !== state.model?.name) {
        this.pendingMark.stop();
        return;  // a newer model arrived meanwhile
      }
      if (predictionsMs !== null) {
        // The bars are up: the mean loss (and the figures of getAnalysis) now.
        this.shown.core = { seq, core };
        this.draw('predictions');
        this.hooks.announce();
      }
      const next: Analysis = { ...core, attn, timing: { ...core.timing, attention_ms: attention.attention_ms } };
      const drawing: Drawing = { next, seq, fromLayer: core.attention_from_layer, roundTripMs: performance.now() - t0, predictionsMs };
      if (predictionsMs === null) this.drawNow(drawing);
      else this.drawAfterPaint(drawing);
      this.status.clearMessage();
    } catch (error) {
      this.pendingMark.stop();
      this.hooks.settled();
      this.status.showError(`Could not run the model on this text: ${messageOf(error)}`);
    }
  }

  /** Draws at once (and whatever was waiting: the grid then redraws from the lower layer). */
  private drawNow(drawing: Drawing): void {
    if (this.pending) drawing.fromLayer = Math.min(drawing.fromLayer, this.pending.fromLayer);
    this.pending = null;
    this.render(drawing);
  }

  /** Draws after the next paint; a newer analysis arriving meanwhile replaces this one. */
  private drawAfterPaint(drawing: Drawing): void {
    const waiting = this.pending !== null;
    if (this.pending) drawing.fromLayer = Math.min(drawing.fromLayer, this.pending.fromLayer);
    this.pending = drawing;
    if (waiting) return;
    afterNextPaint(() => {
      const due = this.pending;
      this.pending = null;
      // A model loaded meanwhile: its own analysis is on the way.
      if (due && due.next.model === this.state.model?.name) this.render(due);
    });
  }

  private render({ next, seq, fromLayer, roundTripMs, predictionsMs }: Drawing): void {
    this.hooks.settled();
    const t0 = performance.now();
    const shown = this.shown;
    shown.analysis = next;
    shown.seq = seq;
    if (shown.core && shown.core.seq <= seq) shown.core = null;
    if (shown.part && shown.part.seq <= seq) shown.part = null;
    // The bars go up in this task (no paint in between): unmark first.
    this.pendingMark.stop();
    if (!this.state.model) return;
    this.views.draw(this.frame('analysis', fromLayer));
    const line = this.timingLine(next, roundTripMs, predictionsMs, performance.now() - t0);
    // The line goes up with the frame after the one that shows these views:
    // it says the drawing is on screen (bench/web.mjs waits for it before its
    // next click). A newer drawing by then writes its own.
    afterNextPaint(() => {
      if (this.shown.analysis === next) this.status.setTiming(line, next.engine_bytes);
    });
    document.documentElement.dataset['ready'] = 'true';
    delete document.documentElement.dataset['stale'];
    if (predictionsMs === null) this.hooks.announce();
    this.resolveFirst?.();
    this.resolveFirst = null;
  }

  private timingLine(next: Analysis, roundTripMs: number, predictionsMs: number | null, paintMs: number): string {
    const { tokenize_ms, forward_ms, position_ms, prepared_ms } = next.timing;
    const position = clampPosition(this.state.selectedPosition, next.T);
    const pass =
      next.rerun_from_layer === 0 && position_ms === null
        ? 'full forward pass'
        : next.rerun_from_layer >= next.n_layer
          ? 'no layer rerun'
          : `rerun from layer ${next.rerun_from_layer}`;
    const muted = countMuted(this.state);
    return (
      `${pass}: ${forward_ms.toFixed(1)} ms · ` +
      // A rerun reads no text; its first phase ends with the shown position's predictions.
      (position_ms === null
        ? `tokenize ${tokenize_ms.toFixed(1)} ms · `
        : prepared_ms !== null
          ? `position ${position} prepared before the click (${prepared_ms.toFixed(1)} ms) · `
          : `position ${position} after ${position_ms.toFixed(1)} ms · `) +
      (predictionsMs === null ? '' : `predictions drawn at ${predictionsMs.toFixed(1)} ms · `) +
      `round trip ${roundTripMs.toFixed(1)} ms · draw ${paintMs.toFixed(1)} ms` +
      this.views.timingNotes() +
      (muted > 0 ? ` · ${muted} head${muted === 1 ? '' : 's'} muted` : '')
    );
  }
}
