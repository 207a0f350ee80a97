/**
 * The circuit figures of the page (issue 17, docs/circuits.md), asked of the
 * worker after the analysis they belong to: the logit lens and the direct
 * logit attribution of the drawn pass at the selected position, the
 * activation-patching maps of the text (clean) against the corrupted
 * prompt, and the corrupted prompt run with the patched heads. Each kind
 * has one request in flight at most (LatestRunner); a figure whose inputs
 * changed meanwhile is dropped. Views call sync(frame) when they draw and
 * listen for new figures (subscribe).
 */
import type { EngineClient } from '../engine/client';
import type { Analysis, LensReply, PatchedRunReply, PatchMapsReply } from '../engine/protocol';
import { type AnswerFoil, answerFoilOf, topTokensAt } from '../state/answer-foil';
import type { AppState } from '../state/app-state';
import { TOP_K } from '../state/app-state';
import type { PatchMetricKind } from '../state/url-state';
import { LatestRunner } from './latest-runner';
import { meanFlags } from './mean-ablation';
import type { Frame, View } from './view';

/** A figure and the inputs it was computed from, or the error those inputs gave. */
export interface Figure<R> {
  key: string;
  reply: R | null;
  error: string | null;
}

interface LensInputs {
  key: string;
  analysis: Analysis;
  text: string;
  position: number;
  picks: AnswerFoil;
}

interface PatchInputs {
  key: string;
  clean: string;
  corrupted: string;
  picks: AnswerFoil;
  /** What patching measures (URL `metric=`): the foil is unused by 'logprob'. */
  metric: PatchMetricKind;
  patched: Int32Array;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class CircuitStore {
  /** What the views draw: the newest figure of each kind (null: none asked yet). */
  readonly figures: {
    lens: (Figure<LensReply> & { inputs: LensInputs }) | null;
    maps: Figure<PatchMapsReply> | null;
    run: Figure<PatchedRunReply> | null;
  } = { lens: null, maps: null, run: null };
  /** The inputs the newest frame asks for. */
  private readonly wanted: { lens: LensInputs | null; patch: PatchInputs | null } = { lens: null, patch: null };
  /** The patch inputs when sync last ran: a change tells the views. */
  private patchBefore: PatchInputs | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly lensRunner = new LatestRunner(() => this.runLens());
  private readonly mapsRunner = new LatestRunner(() => this.runMaps());
  private readonly runRunner = new LatestRunner(() => this.runPatched());

  /**
   * True while the circuits panel is on screen: the lens of every layer at
   * every position costs L times the LM head of a pass (docs/circuits.md),
   * and a request queued in the worker delays the next head edit, so
   * nothing is asked while the reader cannot see it. The newest frame
   * waits in `waiting` and is asked for when the panel comes into view.
   */
  private readonly view: { visible: boolean; waiting: Frame | null } = { visible: true, waiting: null };

  constructor(
    private readonly client: EngineClient,
    private readonly state: AppState,
    panel: Element | null = document.querySelector('[data-panel="circuits"]'),
  ) {
    if (!panel || typeof IntersectionObserver === 'undefined') return;
    this.view.visible = false;
    new IntersectionObserver((entries) => {
      this.view.visible = entries.some((entry) => entry.isIntersecting);
      const frame = this.view.waiting;
      if (this.view.visible && frame) this.sync(frame);
    }).observe(panel);
  }

  subscribe(listener: () => void): void {
    this.listeners.add(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** The figure of a kind if it is of the inputs the newest frame asks for, else null (one is on its way). */
  current<K extends 'lens' | 'maps' | 'run'>(kind: K): CircuitStore['figures'][K] | null {
    const figure = this.figures[kind];
    const patch = this.wanted.patch;
    if (!figure) return null;
    if (kind === 'lens') return figure.key === this.wanted.lens?.key ? figure : null;
    if (!patch) return null;
    return figure.key === (kind === 'maps' ? this.mapsKeyOf(patch) : patch.key) ? figure : null;
  }

  /** The answer and foil at position t of an analysis (the reader's, else its top predictions). */
  picksAt(analysis: Analysis, t: number): AnswerFoil {
    return answerFoilOf(this.state, topTokensAt(analysis.top_k_tokens, analysis.top_k, t));
  }

  /** Asks for what a frame needs that is not asked for yet; idempotent. Views call it from draw(), never from a listener. */
  sync(frame: Frame): void {
    const { analysis, state } = frame;
    // A hidden circuits panel (URL hide=circuits, an embed) asks for nothing.
    if (!analysis || frame.reason === 'empty-text' || state.hidden.includes('circuits')) return;
    if (!this.view.visible) {
      this.view.waiting = frame;
      return;
    }
    this.view.waiting = null;
    const position = frame.position;
    const picks = this.picksAt(analysis, position);
    const lensKey = JSON.stringify([analysis.model, analysis.T, Array.from(analysis.ids), Array.from(analysis.gains),
      Array.from(analysis.means), position, picks.answer.text, picks.foil.text]);
    const asked = this.wanted.lens?.key !== lensKey;
    if (asked) {
      this.wanted.lens = { key: lensKey, analysis, text: state.text, position, picks };
      this.lensRunner.request();
    }
    this.syncPatching(frame);
    // The views show that their figures are on the way (current() is null for them now).
    const patchChanged = this.wanted.patch !== this.patchBefore;
    this.patchBefore = this.wanted.patch;
    if (asked || patchChanged) this.notify();
  }

  private syncPatching(frame: Frame): void {
    const { analysis, state } = frame;
    if (!analysis) return;
    // Patching is on the metric at the last position.
    const lastPicks = this.picksAt(analysis, analysis.T - 1);
    const { model } = frame;
    const patched = new Int32Array(model.n_layer * model.n_head);
    for (const { layer, head } of state.patchedHeads) {
      if (layer < model.n_layer && head < model.n_head) patched[layer * model.n_head + head] = 1;
    }
    const inputs: PatchInputs = {
      key: '', clean: state.text, corrupted: state.corrupted, picks: lastPicks, metric: state.patchMetric, patched,
    };
    const mapsKey = this.mapsKeyOf(inputs);
    inputs.key = JSON.stringify([mapsKey, Array.from(patched)]);
    if (state.corrupted === '') {
      this.wanted.patch = null;
      this.figures.maps = null;
      this.figures.run = null;
      return;
    }
    if (this.wanted.patch?.key === inputs.key) return;
    const mapsChanged = !this.wanted.patch || this.mapsKeyOf(this.wanted.patch) !== mapsKey;
    this.wanted.patch = inputs;
    if (mapsChanged) this.mapsRunner.request();
    this.runRunner.request();
  }

  private mapsKeyOf(inputs: PatchInputs): string {
    // The log-prob reads no foil: a new foil asks for no new maps.
    const foil = inputs.metric === 'logprob' ? null : inputs.picks.foil.text;
    return JSON.stringify([this.state.model?.name, inputs.clean, inputs.corrupted, inputs.picks.answer.text, foil, inputs.metric]);
  }

  private async runLens(): Promise<void> {
    const inputs = this.wanted.lens;
    if (!inputs) return;
    const { analysis, text, position, picks } = inputs;
    let figure: Figure<LensReply>;
    try {
      const reply = await this.client.call('lens', {
        text, gains: analysis.gains, means: analysis.means, topK: TOP_K, position,
        answer: picks.answer.text, foil: picks.foil.text,
      });
      // Another text was typed since: its own analysis will ask again.
      const same = reply.ids.length === analysis.T && reply.ids.every((id, i) => id === analysis.ids[i]);
      figure = same ? { key: inputs.key, reply, error: null } : { key: inputs.key, reply: null, error: 'the text changed' };
    } catch (error) {
      figure = { key: inputs.key, reply: null, error: messageOf(error) };
    }
    if (this.wanted.lens?.key !== inputs.key) return;
    this.figures.lens = { ...figure, inputs };
    this.notify();
  }

  private async runMaps(): Promise<void> {
    const inputs = this.wanted.patch;
    if (!inputs) return;
    const key = this.mapsKeyOf(inputs);
    let figure: Figure<PatchMapsReply>;
    try {
      const reply = await this.client.call('patchMaps', {
        clean: inputs.clean, corrupted: inputs.corrupted, answer: inputs.picks.answer.text, foil: inputs.picks.foil.text,
        metric: inputs.metric,
      });
      figure = { key, reply, error: null };
    } catch (error) {
      figure = { key, reply: null, error: messageOf(error) };
    }
    if (!this.wanted.patch || this.mapsKeyOf(this.wanted.patch) !== key) return;
    this.figures.maps = figure;
    this.notify();
  }

  private async runPatched(): Promise<void> {
    const inputs = this.wanted.patch;
    if (!inputs) return;
    let figure: Figure<PatchedRunReply>;
    try {
      const reply = await this.client.call('patchedRun', {
        clean: inputs.clean, corrupted: inputs.corrupted, answer: inputs.picks.answer.text, foil: inputs.picks.foil.text,
        metric: inputs.metric, patched: inputs.patched, topK: TOP_K,
      });
      figure = { key: inputs.key, reply, error: null };
    } catch (error) {
      figure = { key: inputs.key, reply: null, error: messageOf(error) };
    }
    if (this.wanted.patch?.key !== inputs.key) return;
    this.figures.run = figure;
    this.notify();
  }
}

/**
 * The registry entry of a circuit view: `render(frame)` on 'analysis' and
 * 'selection' frames (after asking the store for what the frame needs), and
 * again with the last frame when a figure arrives.
 */
export function circuitView(label: string, circuits: CircuitStore, render: (frame: Frame) => void): View {
  const last: { frame: Frame | null } = { frame: null };
  circuits.subscribe(() => {
    if (last.frame) render(last.frame);
  });
  return {
    label,
    draw(frame) {
      if (frame.reason !== 'analysis' && frame.reason !== 'selection') return;
      last.frame = frame;
      circuits.sync(frame);
      render(frame);
    },
  };
}
