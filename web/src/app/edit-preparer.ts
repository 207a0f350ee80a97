/**
 * Head edits computed ahead of their click. When the pointer or the focus
 * comes to a head (or a pointer goes down on it), the worker computes the
 * rerun's first phase for the gains a click would give (the 'prepare'
 * method); the click's analyze then posts those predictions at once. One
 * prepare is in flight at a time and only the newest aim is kept; the
 * worker declines gains it cannot prepare (another text, the gains it
 * holds). Nothing here changes the state.
 */
import type { EngineClient } from '../engine/client';
import { type AppState, TOP_K } from '../state/app-state';
import { LatestRunner } from './latest-runner';
import { meanFlags } from './mean-ablation';

export class EditPreparer {
  /** The gains and mean flags of the newest aim, until its prepare is sent. */
  private aimed: { gains: Float32Array; means: Int32Array } | null = null;
  /** The last aim asked for: the same aim on the same state is not asked again. */
  private lastAim = '';
  private readonly runner = new LatestRunner(() => this.send());

  /** drawnSeq: the seq of the analysis on screen (an aim is new again after each drawing). */
  constructor(
    private readonly client: EngineClient,
    private readonly state: AppState,
    private readonly drawnSeq: () => number,
  ) {}

  aim(apply: (ahead: AppState) => void): void {
    const state = this.state;
    if (!state.model || state.text.length === 0) return;
    const ahead: AppState = { ...state, gains: state.gains.slice(), meanHeads: state.meanHeads.slice() };
    apply(ahead);
    const means = meanFlags(ahead);
    const aim = `${this.drawnSeq()}:${state.selectedPosition}:${ahead.gains.join()}:${means.join()}`;
    if (aim === this.lastAim) return;
    this.lastAim = aim;
    this.aimed = { gains: ahead.gains, means };
    this.runner.request();
  }

  private async send(): Promise<void> {
    const aimed = this.aimed;
    this.aimed = null;
    if (!aimed) return;
    try {
      await this.client.call('prepare', { text: this.state.text, ...aimed, topK: TOP_K, position: this.state.selectedPosition });
    } catch {
      // Nothing is lost: the click computes the same predictions itself
      // and reports what goes wrong.
    }
  }
}
