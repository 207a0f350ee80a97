/**
 * What the worker keeps between requests for one loaded model, so that an
 * analyze redoes only what changed: the text and its token ids, the top-k,
 * the engine's unedited baseline of those ids (read once per text), the
 * head edit prepared ahead of its click, and the version of the attention
 * the page holds. The engine (wasm/core/engine.h) knows the gains, the
 * baseline's probabilities and which layers a rerun changed; this class only
 * decides which engine calls a request needs and shapes their answers into
 * the protocol's messages (protocol.ts). No DOM, no worker scope: the Node
 * tests drive it over the real wasm engine (tests/node/engine-cache.test.mjs).
 * Shapes use L = n_layer, H = n_head, T = tokens, K = top-k.
 */
import type { BaselineResult, Engine, PositionPredictions } from './headlight-wasm';
import type {
  AnalysisCore,
  AttentionPart,
  CopyingPart,
  HeadTypes,
  LoadedModel,
  Methods,
  PredictionsPart,
  SyntaxPart,
} from './protocol';
import { copyingPart } from './copying-parts';
import { noSyntaxRun, syntaxPart } from './syntax-parts';
import { owned, sameValues, TOKENS_COUNTED, unwrap } from './engine-calls';

type AnalyzeParams = Methods['analyze']['params'];
type AnalyzeResult = Methods['analyze']['result'];
type PrepareParams = Methods['prepare']['params'];
type PrepareResult = Methods['prepare']['result'];

/** The most logits (T x V floats) read back for the ghost row: the engine's bound for the baseline's (engine.h kMaxBaselineLogits). */
const MAX_LOGITS_READ = 16 * 1024 * 1024;

/**
 * A head edit computed ahead of its click ('prepare'): the predictions the
 * rerun's first phase gave for these gains at this position, on the trace
 * the page holds. While it is set, the engine holds these gains and that
 * pass (its other positions possibly still pending), so an analyze with the
 * same gains and position posts these at once.
 */
interface PreparedEdit {
  ids: Int32Array;       // the cache's ids when it was computed
  topK: number;
  gains: Float32Array;   // [L x H]
  means: Int32Array;     // [L x H] mean-ablated heads
  at: PositionPredictions;
  computeMs: number;
}

export class EngineCache {
  private text: string | null = null;
  private ids: Int32Array | null = null;  // [n_input_tokens] tokenizer output of text
  /** Whether ids are all of the text's tokens (it is tokenized as far as TOKENS_COUNTED). */
  private countedAll = true;
  private topK = 0;
  /** The engine's unedited baseline of ids (without its per-edit probabilities). */
  private baseline: BaselineResult | null = null;
  /**
   * The version of the attention last sent to the page (AttentionPart),
   * while it is still the engine's trace; 0 = none (not sent yet, or the
   * engine ran since). A request that names it gets only the layers a
   * rerun changed.
   */
  private attentionVersion = 0;
  private prepared: PreparedEdit | null = null;
  /** The syntax probe run the engine holds (syntax-parts.ts). */
  private readonly syntaxRun = noSyntaxRun();

  /**
   * Takes ownership of `engine`, which has `model` loaded (delete() frees
   * it). `versions` numbers the attention sent; the worker passes one
   * counter to every model's cache, so that no version names the attention
   * of a model loaded before.
   */
  constructor(
    private readonly engine: Engine,
    readonly model: LoadedModel,
    private readonly versions: { next: number } = { next: 1 },
  ) {}

  delete(): void {
    this.prepared = null;
    this.engine.delete();
  }

  /** Methods.syntaxPart: the next parts of this model's syntax probe (unedited; the text and edits are untouched). */
  syntaxPart(probeJson: string, budgetMs?: number): SyntaxPart {
    return syntaxPart(this.engine, this.model.name, probeJson, this.syntaxRun, budgetMs);
  }

  /** Methods.copyingPart: the next parts of this model's copying scores (weights only; the text and edits are untouched). */
  copyingPart(): CopyingPart {
    return copyingPart(this.engine, this.model.name);
  }

  /**
   * Methods.analyze: a new text or top-k runs the whole model (the unedited
   * baseline first, in the engine); the same tokens with new gains rerun in
   * two phases, the shown position's predictions first (sendPartial).
   */
  analyze(params: AnalyzeParams, sendPartial: (partial: PredictionsPart) => void): AnalyzeResult {
    const { text, gains, topK, position, heldAttention } = params;
    const { engine, model } = this;
    const { n_layer, n_head } = model;
    const means = params.means ?? new Int32Array(n_layer * n_head);
    if (gains.length !== n_layer * n_head || means.length !== n_layer * n_head) {
      throw new Error(`expected ${n_layer * n_head} head gains and mean flags (${n_layer} x ${n_head}), got ${gains.length}, ${means.length}`);
    }
    if (text.length === 0) throw new Error('the text is empty: type something to run the model');

    // The attention the page holds matches the engine's trace only until the
    // engine runs again: from here on, until this request's attention is
    // sent, nothing the page holds may be the base of a delta.
    const baseVersion = this.attentionVersion;
    this.attentionVersion = 0;

    const t0 = performance.now();
    let ids = this.ids;
    let countedAll = this.countedAll;
    if (text !== this.text || !ids) {
      // Only as far as TOKENS_COUNTED: a 1 MB paste costs what is run and counted.
      const tokenized = unwrap(engine.tokenizePrefix(text, TOKENS_COUNTED), 'tokenizer');
      ids = tokenized.ids;
      countedAll = tokenized.complete;
      if (ids.length === 0) throw new Error('the text gave no tokens');
    }
    const t1 = performance.now();

    let rerunFrom = 0;
    let positionMs: number | null = null;
    let preparedMs: number | null = null;
    if (ids !== this.ids || topK !== this.topK || !this.baseline) {
      this.fullPass(text, ids, countedAll, gains, means, topK);
    } else {
      // Same tokens, new gains: the rerun in two phases. First the edited
      // layers and the LM head at the shown position only, posted at once;
      // then the head at the other positions (a (T - 1) x vocab GEMM, about
      // a layer's worth of work) while the page paints the bars.
      const T = this.baseline.T;
      const t = position >= 0 && position < T ? position : T - 1;
      const ready = this.preparedFor(t, gains, means);
      this.prepared = null;
      unwrap(engine.setHeadGains(gains), 'head gains');
      unwrap(engine.setHeadMeans(means, ids), 'mean ablation');
      const at = ready ? ready.at : unwrap(engine.updateAt(t), 'rerun after head edit');
      rerunFrom = at.from_layer;
      positionMs = performance.now() - t1;
      preparedMs = ready ? ready.computeMs : null;
      if (at.baseline_loss === undefined || !at.baseline_probs) throw new Error('the unedited baseline is missing');
      const top1 = at.position * this.baseline.top_k;
      const top1Id = this.baseline.top_k_ids[top1]!;
      const top1Rank = at.top_k_ids.indexOf(top1Id);
      sendPartial({
        model: model.name,
        T,
        top_k: at.top_k_ids.length,
        ids: ids.slice(0, T),
        position: at.position,
        top_k_ids: owned(at.top_k_ids),
        top_k_probs: owned(at.top_k_probs),
        top_k_tokens: at.top_k_tokens,
        loss: at.loss,
        gains: gains.slice(),
        means: means.slice(),
        baseline: {
          loss: at.baseline_loss,
          probs_of_top_k: owned(at.baseline_probs),
          top_1: {
            id: top1Id,
            token: this.baseline.top_k_tokens[top1] ?? '',
            prob: this.baseline.top_k_probs[top1]!,
            edited_prob: top1Rank >= 0 ? at.top_k_probs[top1Rank]! : NaN,
          },
        },
        rerun_from_layer: rerunFrom,
        timing: { tokenize_ms: t1 - t0, position_ms: positionMs, prepared_ms: preparedMs },
      });
      unwrap(engine.finishUpdate(), 'rerun after head edit');
    }
    // The layers whose attention differs from the pass the page was last
    // sent (a full run: all), whatever prepare calls ran in between.
    const attentionFrom = unwrap(engine.attentionChangedFrom(), 'attention changed').from_layer;
    const t2 = performance.now();

    // Then everything: predictions and losses at every position, and the
    // attention (only the layers it changed when the page holds the
    // previous pass's attention, else all of it), in one message.
    const trace = unwrap(engine.getTraceWithoutAttention(), 'trace');
    const baseline = this.baseline;
    if (!baseline || !trace.baseline_probs_of_top_k) throw new Error('the unedited baseline is missing');
    const core: AnalysisCore = {
      model: model.name,
      T: trace.T,
      n_input_tokens: trace.n_input_tokens,
      n_input_tokens_exact: this.countedAll,
      engine_bytes: 0,  // the worker knows the module: it fills this in
      truncated: trace.truncated,
      n_layer: trace.n_layer,
      n_head: trace.n_head,
      top_k: trace.top_k,
      ids: owned(trace.ids),
      tokens: trace.tokens,
      loss: owned(trace.loss),
      mean_loss: trace.mean_loss,
      top_k_ids: owned(trace.top_k_ids),
      top_k_probs: owned(trace.top_k_probs),
      top_k_tokens: trace.top_k_tokens,
      gains: owned(trace.gains),
      means: means.slice(),
      head_types: this.headTypes(),
      // Copies of the cached arrays: the message transfers its buffers.
      baseline: {
        loss: baseline.loss.slice(),
        mean_loss: baseline.mean_loss,
        top_k_ids: baseline.top_k_ids.slice(),
        top_k_probs: baseline.top_k_probs.slice(),
        top_k_tokens: baseline.top_k_tokens,
        probs_of_top_k: owned(trace.baseline_probs_of_top_k),
        edited_probs_of_top_1: this.editedProbsOfTop1(trace.top_k_ids, trace.top_k_probs, trace.T, trace.top_k, gains, means),
      },
      rerun_from_layer: rerunFrom,
      attention_from_layer: attentionFrom,
      timing: {
        tokenize_ms: t1 - t0,
        forward_ms: t2 - t1,
        position_ms: positionMs,
        prepared_ms: preparedMs,
        trace_ms: performance.now() - t2,
      },
    };

    const t3 = performance.now();
    const from = heldAttention !== 0 && heldAttention === baseVersion ? attentionFrom : 0;
    const attn = this.readAttention(from, trace.T);
    unwrap(engine.holdAttention(), 'attention sent');
    this.attentionVersion = this.versions.next++;
    const attention: AttentionPart = {
      version: this.attentionVersion,
      base_version: from > 0 ? baseVersion : 0,
      from_layer: from,
      attn,
      attention_ms: performance.now() - t3,
    };
    return { core, attention };
  }

  /**
   * The engine holding the last analyze's tokens with these edits (the jobs
   * of importance-jobs.ts, the questions of pass-questions.ts; the engine
   * checks their counts): a view asks about the pass on screen, and a
   * prepare call may have moved the engine to other gains. The prepared edit
   * is dropped. Throws for another text: the page does not show its tokens.
   */
  engineWithEdits(text: string, gains: Float32Array, means?: Int32Array): { engine: Engine; ids: Int32Array } {
    if (!this.ids || !this.baseline || text !== this.text) {
      throw new Error('this text has not been run yet: wait for its analysis');
    }
    this.prepared = null;
    unwrap(this.engine.setHeadGains(gains), 'head gains');
    unwrap(this.engine.setHeadMeans(means ?? new Int32Array(gains.length), this.ids), 'mean ablation');
    unwrap(this.engine.update(), 'rerun with the edits');
    return { engine: this.engine, ids: this.ids };
  }

  /** A whole pass of `ids` (the text's tokens) with these edits, the unedited baseline first. */
  private fullPass(text: string, ids: Int32Array, countedAll: boolean, gains: Float32Array, means: Int32Array, topK: number): void {
    const { engine } = this;
    this.forget();
    unwrap(engine.setHeadGains(gains), 'head gains');
    unwrap(engine.setHeadMeans(means, ids), 'mean ablation');
    unwrap(engine.runWithBaseline(ids, topK), 'forward pass');
    this.baseline = unwrap(engine.getBaseline(), 'the unedited baseline');
    this.text = text;
    this.ids = ids;
    this.countedAll = countedAll;
    this.topK = topK;
  }

  /** Makes the engine's trace that of `text` with these edits (a rerun on the same tokens, else a whole pass); its ids. */
  traceOf(text: string, gains: Float32Array, means: Int32Array, topK: number): Int32Array {
    if (text === this.text && this.ids && this.baseline && topK === this.topK) {
      this.prepared = null;
      unwrap(this.engine.setHeadGains(gains), 'head gains');
      unwrap(this.engine.setHeadMeans(means, this.ids), 'mean ablation');
      unwrap(this.engine.update(), 'rerun');
      return this.ids;
    }
    const { ids, complete } = unwrap(this.engine.tokenizePrefix(text, TOKENS_COUNTED), 'tokenizer');
    if (ids.length === 0) throw new Error('the text gave no tokens');
    this.fullPass(text, ids, complete, gains, means, topK);
    return ids;
  }

  /** The engine ran something else (patched heads): the next analyze is a whole pass with all its attention. */
  forget(): void {
    this.text = null;
    this.ids = null;
    this.baseline = null;
    this.prepared = null;
    this.attentionVersion = 0;
  }

  /** The trace's head-type scores, as the message carries them (L * H * T^2 work, after the bars). */
  private headTypes(): HeadTypes {
    const s = unwrap(this.engine.headTypeScores(), 'head-type scores');
    const { previous_token, first_token, duplicate_token, induction, local, entropy, types, threshold } = s;
    return { previous_token, first_token, duplicate_token, induction, local, entropy, types, threshold };
  }

  /**
   * Methods.prepare: the first phase of an analyze with these gains, only
   * on the trace the page holds (same text and top-k, after its first
   * analyze) and only for gains other than the engine's own.
   */
  prepare(params: PrepareParams): PrepareResult {
    const { text, gains, topK, position } = params;
    const { n_layer, n_head } = this.model;
    const means = params.means ?? new Int32Array(n_layer * n_head);
    const nothing = { prepared: false, compute_ms: 0 };
    if (!this.baseline || !this.ids) return nothing;
    if (text !== this.text || topK !== this.topK || gains.length !== n_layer * n_head || means.length !== n_layer * n_head) {
      return nothing;
    }
    const T = this.baseline.T;
    const t = position >= 0 && position < T ? position : T - 1;
    if (this.preparedFor(t, gains, means)) return { prepared: true, compute_ms: 0 };
    const t0 = performance.now();
    const previous = this.prepared;
    this.prepared = null;
    const what = 'head edit prepared ahead of its click';
    unwrap(this.engine.setHeadGains(gains), what);
    unwrap(this.engine.setHeadMeans(means, this.ids), what);
    const at = unwrap(this.engine.updateAt(t), what);
    // The gains the engine already held: nothing was rerun, and an edit
    // prepared before for them (at another position) still stands.
    if (at.from_layer === n_layer) {
      this.prepared = previous;
      return nothing;
    }
    const computeMs = performance.now() - t0;
    this.prepared = { ids: this.ids, topK, gains: gains.slice(), means: means.slice(), at, computeMs };
    return { prepared: true, compute_ms: computeMs };
  }

  /**
   * The rest of a prepared pass, while the reader has not clicked yet: a
   * click on another head then reruns from a finished trace.
   */
  finishPrepared(): void {
    if (this.prepared) unwrap(this.engine.finishUpdate(), 'head edit prepared ahead of its click');
  }

  /** The prepared edit, if it is the first phase of this position and these edits on the cache's ids and top-k. */
  private preparedFor(t: number, gains: ArrayLike<number>, means: ArrayLike<number>): PreparedEdit | null {
    const p = this.prepared;
    const ok =
      p && p.ids === this.ids && p.topK === this.topK && p.at.position === t && sameValues(p.gains, gains) && sameValues(p.means, means);
    return ok ? p : null;
  }

  /**
   * [T] the edited model's probability of the unedited top-1 token at each
   * position: from the edited top-k (top_k_ids, top_k_probs [T x K]) where
   * it is still there, else a softmax of that logits row (float64 sums).
   * The logits (T x V floats) are read only when a position needs them and
   * T x V is at most the engine's baseline-logits bound (16M floats).
   */
  private editedProbsOfTop1(
    top_k_ids: Int32Array,
    top_k_probs: Float32Array,
    T: number,
    K: number,
    gains: Float32Array,
    means: Int32Array,
  ): Float32Array {
    const baseline = this.baseline!;
    const out = new Float32Array(T).fill(NaN);
    const edited = gains.some((gain) => gain !== 1) || means.some((flag) => flag !== 0);
    const missing: number[] = [];
    for (let t = 0; t < T; t++) {
      const id = baseline.top_k_ids[t * K]!;
      if (!edited) {
        out[t] = baseline.top_k_probs[t * K]!;
        continue;
      }
      let rank = -1;
      for (let k = 0; k < K; k++) if (top_k_ids[t * K + k] === id) rank = k;
      if (rank >= 0) out[t] = top_k_probs[t * K + rank]!;
      else missing.push(t);
    }
    if (missing.length === 0 || T * this.model.vocab_size > MAX_LOGITS_READ) return out;
    const { logits, vocab_size: V } = unwrap(this.engine.getLogits(), 'logits of the edited pass');
    for (const t of missing) {
      const row = t * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[row + v]!);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[row + v]! - max);
      out[t] = Math.exp(logits[row + baseline.top_k_ids[t * K]!]! - max) / sum;
    }
    return out;
  }

  /**
   * Attention probabilities of layers [from, L) of the last pass,
   * [(L - from) x H x T x T], read one layer at a time (getAttention): never a
   * copy of the whole trace (GPT-2 at 1024 tokens has 604 MB of attention, and
   * a copy that fails names its layer).
   */
  private readAttention(from: number, T: number): Float32Array {
    const { n_layer, n_head } = this.model;
    const perLayer = n_head * T * T;
    if (from >= n_layer) return new Float32Array(0);
    const layerAttention = (layer: number) => {
      const result = unwrap(this.engine.getAttention(layer), `attention of layer ${layer}`);
      if (result.attn.length !== perLayer) {
        throw new Error(`attention of layer ${layer}: ${result.attn.length} values, expected ${perLayer}`);
      }
      return result.attn;
    };
    // One layer: the engine's copy is the message's buffer.
    if (from === n_layer - 1) return owned(layerAttention(from));
    const attn = new Float32Array((n_layer - from) * perLayer);
    for (let layer = from; layer < n_layer; layer++) {
      attn.set(layerAttention(layer), (layer - from) * perLayer);
    }
    return attn;
  }
}
