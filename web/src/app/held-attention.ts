/**
 * The attention the page holds, [L x H x T x T]: after a head edit the
 * worker sends only the layers its rerun changed (AttentionPart.from_layer
 * and up), on top of the version the page last received.
 */
import type { AnalysisCore, AttentionPart } from '../engine/protocol';

export class HeldAttention {
  private held: { version: number; attn: Float32Array } | null = null;

  /** The version to tell the worker (0 = nothing held: send every layer). */
  get version(): number {
    return this.held?.version ?? 0;
  }

  /** The full attention of `core`: the layers sent over the ones held. */
  merge(part: AttentionPart, core: AnalysisCore): Float32Array {
    const perLayer = core.n_head * core.T * core.T;
    const size = core.n_layer * perLayer;
    let attn = part.attn;
    if (part.from_layer > 0) {
      const held = this.held;
      if (!held || held.version !== part.base_version || held.attn.length !== size) {
        this.held = null;
        throw new Error(`the engine sent the attention of layers ${part.from_layer} and up, but not the layers below`);
      }
      // In place: the layers below from_layer are those of the previous pass.
      // The analysis drawn now shares this array; it is replaced in a frame.
      attn = held.attn;
      attn.set(part.attn, part.from_layer * perLayer);
    }
    if (attn.length !== size) {
      this.held = null;
      throw new Error(`the engine sent ${attn.length} attention values, expected ${size}`);
    }
    this.held = { version: part.version, attn };
    return attn;
  }
}
