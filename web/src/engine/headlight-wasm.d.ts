/**
 * The Embind surface of build/wasm/headlight.js (wasm/bindings/embind.cpp).
 * Every method returns a plain object; failures come back as
 * `{ ok: false, error: "message that names the problem" }`, never as a thrown
 * number. Typed arrays are copies owned by JS (safe after memory growth).
 * Shapes use L = n_layer, H = n_head, T = tokens, K = top-k, V = vocab.
 */
export interface HeadlightModuleOptions {
  /** Pass the .wasm bytes directly (Node tests); the page lets it fetch. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (path: string, prefix: string) => string;
  /** Called when the module aborts (out of memory, a trap): it cannot run again. */
  onAbort?: (what: unknown) => void;
}

export type Fail = { ok: false; error: string };

export interface ModelInfo {
  n_layer: number;
  n_head: number;
  n_embd: number;
  n_positions: number;
  vocab_size: number;
  attn_only: boolean;
  n_params: number;
}

export interface TraceResult {
  ok: true;
  T: number;
  n_input_tokens: number;
  truncated: boolean;
  n_layer: number;
  n_head: number;
  top_k: number;
  ids: Int32Array;          // [T]
  tokens: string[];         // [T] display text of each token (partial UTF-8 shown as \xE2)
  attn: Float32Array;       // [L x H x T x T] attention probabilities (query rows, key cols)
  loss: Float32Array;       // [T] next-token loss in nats, NaN at T-1
  mean_loss: number;        // NaN when T < 2
  top_k_ids: Int32Array;    // [T x K]
  top_k_probs: Float32Array;// [T x K]
  top_k_tokens: string[];   // [T x K] display text
  gains: Float32Array;      // [L x H] current head gains
  /**
   * [T x K] the unedited model's probability of each token of top_k_ids
   * (NaN where unknown: the engine keeps the unedited logits only while
   * T x V is at most 16M floats); present while the engine holds the
   * baseline of these tokens (runWithBaseline).
   */
  baseline_probs_of_top_k?: Float32Array;
}

/** The unedited model (every gain 1) of the last runWithBaseline, without its logits. */
export interface BaselineResult {
  ok: true;
  T: number;
  top_k: number;
  loss: Float32Array;       // [T] next-token loss in nats, NaN at T-1
  mean_loss: number;
  top_k_ids: Int32Array;    // [T x K] the unedited model's own top-k
  top_k_probs: Float32Array;// [T x K]
  top_k_tokens: string[];   // [T x K] display text
}

/** The predictions at one position, from updateAt(). */
export interface PositionPredictions {
  ok: true;
  from_layer: number;       // first layer rerun (n_layer if nothing changed)
  position: number;         // t, the position these are the predictions after
  top_k_ids: Int32Array;    // [K]
  top_k_probs: Float32Array;// [K]
  top_k_tokens: string[];   // [K] display text
  loss: number;             // -log p(ids[t + 1]); NaN at the last position
  /** The unedited model's loss at t; present while the engine holds a baseline. */
  baseline_loss?: number;
  /** [K] the unedited model's probability of each of top_k_ids (NaN: unknown); as baseline_loss. */
  baseline_probs?: Float32Array;
}

/**
 * The logit lens of the last pass (docs/circuits.md): the residual stream
 * entering each layer, and leaving the last (row n_layer), through ln_f and
 * the unembedding. P positions: the one asked, or every position.
 */
export interface LogitLensResult {
  ok: true;
  n_rows: number;            // L + 1
  top_k: number;             // K
  position: number;          // the position asked (-1 resolved to the last)
  positions: Int32Array;     // [P]
  top_k_ids: Int32Array;     // [(L+1) x P x K] best first
  top_k_probs: Float32Array; // [(L+1) x P x K]
  top_k_tokens: string[];    // [(L+1) x P x K] display text
  /** [(L+1) x P] 1 = most probable; present when an answer was given. */
  answer_rank?: Int32Array;
  answer_prob?: Float32Array;
  /** Direct logit attribution of logit(answer) - logit(foil) at `position`; present with a foil. */
  dla?: {
    position: number;
    heads: Float64Array;     // [L x H] each head's output with its gain, on answer - foil
    mlps: Float64Array;      // [L] each MLP without its bias (0 for attention-only models)
    embed: number;           // wte + wpe
    bias: number;            // every c_proj and MLP bias, and ln_f's bias
    total: number;           // sum of the parts
    actual: number;          // the real logit difference
  };
}

/** Head-type scores of every head on the trace's attention (docs/heads.md), from headTypeScores(). [L x H], l * H + h. */
export interface HeadTypeScoresResult {
  ok: true;
  previous_token: Float32Array;
  first_token: Float32Array;
  duplicate_token: Float32Array;
  induction: Float32Array;
  local: Float32Array;
  entropy: Float32Array;
  /** [L x H] each head's type at the threshold: a score name above, or 'none'. */
  types: string[];
  threshold: number;
}

/**
 * The copying score of every head's OV circuit (wasm/core/copying.h,
 * docs/heads.md "Copying"), from copyingScores(): weights only.
 */
export interface CopyingScoresResult {
  ok: true;
  /** d_head: eigenvalues per head. */
  D: number;
  /** [L x H] sum Re(lambda) / sum |lambda| over the eigenvalues, in [-1, 1]; > 0: the head copies. */
  copying: Float32Array;
  /** [L x H x D] each head's eigenvalues, largest |lambda| first. */
  eig_re: Float64Array;
  eig_im: Float64Array;
}

/** How far a copying run is: parts (blocks of wte rows, then layers) and their multiply-adds. */
interface CopyingProgress {
  parts_done: number;
  parts_total: number;
  work_done: number;
  work_total: number;
}

/**
 * The copying scores in parts, from copyingStep(): how far the run is; once
 * done, the scores (the same as copyingScores', bit for bit).
 */
export type CopyingStepResult =
  | ({ ok: true; done: false } & CopyingProgress)
  | (CopyingScoresResult & { done: true } & CopyingProgress);

/**
 * One head's arithmetic at one query position (wasm/core/head_arithmetic.h),
 * from headArithmetic(): n = position + 1 keys (the causal mask hides keys
 * position+1..T-1), D = d_head, C = n_embd. probs and z are the forward
 * pass's own (the Trace's attention row and z, bit for bit).
 */
export interface HeadArithmeticResult {
  ok: true;
  layer: number;
  head: number;
  position: number;
  T: number;
  d_head: number;
  scale: number;            // 1 / sqrt(D)
  gain: number;             // the head's gain (0 = muted)
  z_replaced: boolean;      // mean ablation: c_proj gets the head's mean z instead
  q: Float32Array;          // [D] the query row
  k: Float32Array;          // [n x D] key rows 0..position
  v: Float32Array;          // [n x D] value rows 0..position
  scores: Float32Array;     // [n] q . k
  scaled: Float32Array;     // [n] scores / sqrt(D)
  probs: Float32Array;      // [n] softmax of scaled: the attention row
  z: Float32Array;          // [D] sum of probs[s] v[s]
  z_used: Float32Array;     // [D] (z or its replacement) x gain: what c_proj gets
  output: Float32Array;     // [C] z_used through the head's rows of c_proj (no bias)
  /** [n x 2] keys in 2-D: x = k . q / |q| (x |q| = the score), y = the keys' first principal component orthogonal to q. */
  key_xy: Float32Array;
  query_xy: Float32Array;   // [2] (|q|, 0)
}

/** Head-type scores of one pattern (docs/heads.md). */
export interface PatternScores {
  previous_token: number;
  first_token: number;
  duplicate_token: number;
  induction: number;
  local: number;
  entropy: number;
}

/** One head's attention on some ids in a pass of its own (Engine::head_attention), from headAttention(). */
export interface HeadAttentionResult {
  ok: true;
  T: number;
  ids: Int32Array;          // [T] the ids run (cut to n_positions)
  attn: Float32Array;       // [T x T] query rows, key columns
}

/** A head fine-tuning run started (wasm/core/head_finetune.h), from finetuneStart(). */
export interface FineTuneStartResult {
  ok: true;
  B: number;                 // examples
  T: number;                 // the batch's length: the longest example's tokens - 1
  tokens_given: Int32Array;  // [B] each example's tokens
  tokens_used: Int32Array;   // [B] after the cut to n_positions + 1
  loss: number;              // the examples' mean loss now (nats/token)
}

/**
 * What fine-tuning did (wasm/core/finetune_effects.h) and the fine-tuned
 * model's files, from finetuneFinish(). E examples, K edited heads, T_e example e's tokens.
 */
export interface FineTuneFinishResult {
  ok: true;
  examples_loss_before: number;
  examples_loss_after: number;
  heldout_loss_before: number;
  heldout_loss_after: number;
  heldout_tokens: number;
  moved: Float32Array;               // [L x H] mean JS distance of each head's pattern on the held-out text
  example_token_counts: Int32Array;  // [E] T_e: each example's tokens as run
  edited_before: Float32Array;       // for each example e, each edited head k: [T_e x T_e]
  edited_after: Float32Array;
  steps_done: number;
  config_json: string;
  safetensors: Uint8Array;           // the fine-tuned weights (F32)
}

/**
 * One head's attention in two runs compared (wasm/core/run_compare.h), from
 * compareAttention(): aligned by position over T = min(T_a, T_b).
 */
export interface RunComparisonResult {
  ok: true;
  T_a: number;
  T_b: number;
  T: number;
  diff: Float32Array;             // [T x T] B - A (0 above the diagonal)
  total_variation: Float32Array;  // [T] per query row, 1/2 sum |B - A|
  js_distance: Float32Array;      // [T] per query row, sqrt(JSD / ln 2)
  scores_a: PatternScores;        // each run's own pattern on its own ids
  scores_b: PatternScores;
  largest_query: Int32Array;      // [N] the cells of largest |B - A|, largest first
  largest_key: Int32Array;        // [N]
  largest_value: Float32Array;    // [N] B - A there
  max_abs: number;
}

/** A head's attention before and after muting an earlier head (wasm/core/composition.h), from composition(). */
export interface CompositionResult {
  ok: true;
  T: number;
  /** The source is in an earlier layer than the target: only then can muting it change the target. */
  composes: boolean;
  before: Float32Array;     // [T x T] the target's attention with the current edits
  after: Float32Array;      // [T x T] with the source muted too
  before_scores: PatternScores;
  after_scores: PatternScores;
}

/** The exact ablation scan, from ablationScan(). [L x H] arrays are flat, l * H + h. */
export interface AblationScanResult {
  ok: true;
  mode: 'zero' | 'mean';
  position: number;           // p: the next token followed is ids[p + 1]
  mean_loss: number;          // the pass with the current edits (the base)
  logprob: number;            // log p(ids[p + 1]) of the base
  delta_mean_loss: Float32Array; // [L x H] each head ablated alone, minus the base
  delta_logprob: Float32Array;   // [L x H]
}

/** The pruning curves, from pruningCurve(). Heads are numbered l * H + h. */
export interface PruningCurveResult {
  ok: true;
  mode: 'zero' | 'mean';
  rescan_every: number;
  order: Int32Array;            // [L*H] least important first (exact scan every rescan_every)
  mean_loss: Float32Array;      // [L*H + 1] k-th: the first k heads of order removed
  random_order: Int32Array;     // [L*H] a seeded shuffle
  random_mean_loss: Float32Array; // [L*H + 1]
}

/**
 * A pruning run in parts, from pruningStart() and pruningStep(): heads
 * removed so far over both curves, of total = 2 * L * H; once done, the
 * curves (the same as pruningCurve's, bit for bit).
 */
export type PruningProgressResult =
  | { ok: true; done: false; removed: number; total: number }
  | (PruningCurveResult & { done: true; removed: number; total: number });

/**
 * Activation patching, from patch(): the corrupted run with one head's z
 * (every position) or one row of the residual stream entering a layer (L:
 * ln_f's input) taken from the clean run, on the metric at the last
 * position: logit(answer) - logit(foil) ('logit_diff') or log p(answer)
 * over the whole vocabulary ('logprob', the foil unused). Recovery = (patched - corrupted) / (clean - corrupted),
 * NaN when clean == corrupted. Definitions: docs/circuits.md.
 */
export type PatchMetricKind = 'logit_diff' | 'logprob';

export interface PatchingResult {
  ok: true;
  n_layer: number;
  n_head: number;
  T: number;
  metric_kind: PatchMetricKind;  // what clean, corrupted and every *_metric measure
  clean: number;                 // the metric of the clean run
  corrupted: number;             // the metric of the corrupted run
  head_z: Float32Array;          // [L x H] recovery; empty when not asked for
  residual: Float32Array;        // [(L+1) x T] recovery; empty when not asked for
  head_z_metric: Float32Array;   // [L x H] the patched metric
  residual_metric: Float32Array; // [(L+1) x T]
  head_z_pos: Float32Array;      // [L x H x T] recovery, each head at one position; maps 'head_z_pos' only
  head_z_pos_metric: Float32Array; // [L x H x T]
}

/**
 * Path patching, from pathPatch(): the sender head's clean output only into
 * the receivers' chosen inputs (ln_1 of the corrupted stream plus the
 * sender's difference), the rest recomputed from the lowest receiver layer.
 * Definitions: docs/circuits.md ("Path patching").
 */
export interface PathPatchResult {
  ok: true;
  clean: number;     // the metric of the clean run
  corrupted: number; // the metric of the corrupted run
  metric: number;    // the path-patched run's
  recovery: number;  // (metric - corrupted) / (clean - corrupted); NaN when clean == corrupted
}

/**
 * Syntax probing, from syntaxProbe(): every sentence of a part-of-speech
 * probe file run alone by the unedited model; per head, the attention from
 * queries of one tag to keys of another, against the head's positional
 * profile (docs/heads.md, "Syntactic heads"). G tags; N = top_pairs.
 */
export interface SyntaxProbeResult {
  ok: true;
  n_layer: number;
  n_head: number;
  tags: string[];               // [G] e.g. NOUN, VERB, ..., '.', X
  n_sentences: number;
  n_tokens: number;
  n_untagged: number;           // tokens of spaces only
  queries: Int32Array;          // [G] queries q >= 1 of each tag
  share: Float32Array;          // [L x H x G x G] attention from a-queries to b-keys / queries of a
  chance_share: Float32Array;   // [L x H x G x G] the same for the head's positional profile
  syntactic: Uint8Array;        // [L x H] 1: a counted pair reaches ratio_threshold
  top_pairs: number;            // N
  top_query: Int32Array;        // [L x H x N] tag index, -1 past the head's last counted pair
  top_key: Int32Array;          // [L x H x N]
  top_share: Float32Array;      // [L x H x N] NaN past the last
  top_chance_share: Float32Array; // [L x H x N]
  top_ratio: Float32Array;      // [L x H x N] share / chance_share, highest first
  ratio_threshold: number;      // 2
  min_share: number;            // a pair counts from this share (0.1)
  min_queries: number;          // ... and this many queries of its query tag (20)
}

/** How far a syntax run is (syntaxStart, syntaxStep; wasm/core/syntax_run.h SyntaxRun). */
export interface SyntaxProgress {
  /** Parts (a layer over a batch of sentences, then the result) done and in all. */
  parts_done: number;
  parts_total: number;
  /** Their multiply-adds: what a progress bar moves with. */
  work_done: number;
  work_total: number;
  /** The kind of the next part; '' once done. */
  next_kind: 'layer' | 'result' | '';
}

/** The syntax probe in parts: how far; once done, syntaxProbe's fields, bit for bit. */
export type SyntaxStepResult =
  | ({ ok: true; done: false } & SyntaxProgress)
  | (SyntaxProbeResult & { done: true } & SyntaxProgress);

export interface Engine {
  loadModel(configJson: string, safetensors: Uint8Array, vocabJson: string, mergesTxt: string):
    ({ ok: true } & ModelInfo) | Fail;
  tokenize(text: string): { ok: true; ids: Int32Array } | Fail;
  /** The first maxTokens ids of tokenize(text), without encoding the rest; complete: they are all of it. */
  tokenizePrefix(text: string, maxTokens: number): { ok: true; ids: Int32Array; complete: boolean } | Fail;
  /** Full forward pass; ids beyond n_positions are truncated (trace says so). */
  run(ids: Int32Array, topK: number): { ok: true } | Fail;
  /**
   * The unedited model first, kept as the baseline (getBaseline, the
   * baseline_* fields), then the current gains as a rerun from the lowest
   * edited layer: the same trace as run(), bit for bit. from_layer: that
   * layer (n_layer when nothing is edited).
   */
  runWithBaseline(ids: Int32Array, topK: number): { ok: true; from_layer: number } | Fail;
  getBaseline(): BaselineResult | Fail;
  /** Gain multiplies head z before c_proj; 0 mutes. Takes effect on update(). */
  setHeadGain(layer: number, head: number, gain: number): { ok: true } | Fail;
  /** All gains at once, [L x H]; only those that differ (bit for bit) count as edits. */
  setHeadGains(gains: Float32Array): { ok: true } | Fail;
  clearHeadGains(): { ok: true } | Fail;
  /**
   * Mean ablation, [L x H] flags (nonzero: the head's z replaced by its mean
   * over ids, computed by the unedited model); only changed heads count as
   * edits, all means are taken again for other ids. Takes effect on update().
   */
  setHeadMeans(flags: Int32Array, ids: Int32Array): { ok: true } | Fail;
  /**
   * Activation patching as edits, for a live run: [L x H] flags (nonzero:
   * the head's z at every position taken from the unedited model run on
   * otherIds, which must have as many tokens as the text run next); every
   * other head's replaced z (a patch or a mean) is cleared. Takes effect on
   * update() or run(); the next setHeadMeans takes its means again.
   */
  setHeadPatches(flags: Int32Array, otherIds: Int32Array): { ok: true } | Fail;
  /** The head-type scores of the current trace (L * H * T^2 work). */
  headTypeScores(): HeadTypeScoresResult | Fail;
  /** Every head's copying score (weights only: V * C^2 + L * C^3 work, once per model). */
  copyingScores(): CopyingScoresResult | Fail;
  /** copyingScores in parts: nParts more parts of the run the first call begins (the engine holds it). */
  copyingStep(nParts: number): CopyingStepResult | Fail;
  /** Reruns from the lowest edited layer; returns it (n_layer if nothing changed). */
  update(): { ok: true; from_layer: number } | Fail;
  /**
   * update() in two phases, the first: reruns the edited layers and the LM
   * head at one position only (-1 = the last) and returns its predictions.
   * The other positions follow in finishUpdate() (or the next trace read).
   */
  updateAt(position: number): PositionPredictions | Fail;
  /** The second phase of updateAt(): the head at every other position and the mean loss. */
  finishUpdate(): { ok: true } | Fail;
  getTrace(): TraceResult | Fail;
  /** getTrace without `attn`: for large models, fetch attention per layer instead. */
  getTraceWithoutAttention(): Omit<TraceResult, 'attn'> | Fail;
  /** The caller keeps this pass's attention; attentionChangedFrom() compares with it. */
  holdAttention(): { ok: true } | Fail;
  /**
   * First layer whose attention may differ from the held pass's: 0 after a
   * run since (or none held); else the layer after the lowest one whose
   * edits differ (a gain or a replaced z acts after its layer's attention); n_layer: none.
   */
  attentionChangedFrom(): { ok: true; from_layer: number } | Fail;
  /** Attention probabilities of one layer of the last pass. */
  getAttention(layer: number):
    { ok: true; layer: number; n_head: number; T: number; attn: Float32Array /* [H x T x T] */ } | Fail;
  /** Logits of the last pass, [T x V]. Separate from getTrace: T x 50257 floats for GPT-2. */
  getLogits(): { ok: true; T: number; vocab_size: number; logits: Float32Array } | Fail;
  /**
   * Gradient head importance (Michel et al. 2019) in one backward pass:
   * d(mean next-token loss)/d(gain) of every head on `ids` at `gains`
   * [L x H], signed (positive: a larger gain raises the loss). Muting head
   * l.h from gain g changes the loss by about -g x gradient[l x H + h].
   * Needs at least 2 ids; ids beyond n_positions are dropped. docs/heads.md.
   */
  gradientImportance(ids: Int32Array, gains: Float32Array):
    { ok: true; n_layer: number; n_head: number; gradient: Float32Array /* [L x H] */ } | Fail;
  /**
   * gradientImportance on the last pass's ids at the engine's own edits:
   * its gains and every mean-ablated (or resampled) head's replaced z, so
   * the loss differentiated is the edited model's the page shows.
   */
  editedGradientImportance():
    { ok: true; n_layer: number; n_head: number; gradient: Float32Array /* [L x H] */ } | Fail;
  /**
   * Pairwise similarity of the heads' attention patterns on the last pass:
   * 1 - mean over queries q >= 1 of JSD(row q of head a, row q of head b) / ln 2,
   * in [0, 1]; symmetric, 1 on the diagonal; head l.h at index l x H + h.
   */
  attentionSimilarity():
    { ok: true; n_heads: number; T: number; similarity: Float32Array /* [LH x LH] */ } | Fail;
  /**
   * Every head ablated alone (zero: gain 0; mean: z replaced by its mean over
   * the current text, computed by the unedited model) on top of the current
   * edits; each figure equals a mute-and-rerun bit for bit. position -1: T - 2.
   */
  ablationScan(mode: 'zero' | 'mean', position: number): AblationScanResult | Fail;
  /**
   * ablationScan of the heads whose skip flag ([L x H]) is 0, the others
   * NaN; each figure bit-equal to the whole scan's (the worker scans a layer
   * at a time, importance-jobs.ts).
   */
  ablationScanPart(mode: 'zero' | 'mean', position: number, skip: Int32Array): AblationScanResult | Fail;
  /** Heads removed one by one from the unedited model, importance order and a seeded random order. */
  pruningCurve(mode: 'zero' | 'mean', rescanEvery: number, seed: number): PruningCurveResult | Fail;
  /** pruningCurve in parts: runs the text unedited, removes nothing yet; the engine holds the run. */
  pruningStart(mode: 'zero' | 'mean', rescanEvery: number, seed: number): PruningProgressResult | Fail;
  /** Up to nParts more parts (each up to rescanEvery heads; an exact scan each in the importance order). */
  pruningStep(nParts: number): PruningProgressResult | Fail;
  /** Activation patching between two texts' ids (the same count) on the unedited model. */
  patch(cleanIds: Int32Array, corruptedIds: Int32Array, answer: number, foil: number,
    maps: 'head_z' | 'residual' | 'both' | 'head_z_pos', metric: PatchMetricKind): PatchingResult | Fail;
  /** Path patching: receivers as l * H + h, each above the sender; into: letters of 'qkv'. */
  pathPatch(cleanIds: Int32Array, corruptedIds: Int32Array, answer: number, foil: number,
    senderLayer: number, senderHead: number, receivers: Int32Array, into: string,
    metric: PatchMetricKind): PathPatchResult | Fail;
  decode(ids: Int32Array): { ok: true; text: string } | Fail;
  /** The syntax probe (a probe file's JSON text) on the loaded model, unedited. */
  syntaxProbe(probeJson: string): SyntaxProbeResult | Fail;
  /** syntaxProbe in parts: tokenizes the probe and begins a run (the engine holds it, replacing one held). */
  syntaxStart(probeJson: string): SyntaxStepResult | Fail;
  /** nParts more parts of the run syntaxStart began. */
  syntaxStep(nParts: number): SyntaxStepResult | Fail;
  /**
   * Logit lens at one position (-1 = the last; every position with
   * allPositions: L times the LM head of a pass) and, with answer and foil
   * ids (-1 none), the answer's rank and the direct logit attribution.
   */
  logitLens(position: number, topK: number, answer: number, foil: number, allPositions: boolean):
    LogitLensResult | Fail;
  /** One head's arithmetic at a query position of the current pass; a head or position out of range fails naming it. */
  headArithmetic(layer: number, head: number, position: number): HeadArithmeticResult | Fail;
  /** The target head's attention before and after muting the source head on top of the current edits. */
  composition(sourceLayer: number, sourceHead: number, targetLayer: number, targetHead: number):
    CompositionResult | Fail;
  /** One head's attention on ids in a pass of its own: with the current edits (edited) or none; the engine's trace stays. */
  headAttention(ids: Int32Array, layer: number, head: number, edited: boolean): HeadAttentionResult | Fail;
  /** A fine-tuning run of heads [l0, h0, l1, h1, ...] on the examples' ids (one after another, with their lengths). */
  finetuneStart(heads: Int32Array, exampleIds: Int32Array, exampleLengths: Int32Array, lr: number): FineTuneStartResult | Fail;
  /** n more AdamW steps: each step's loss before its update. */
  finetuneStep(n: number): { ok: true; losses: Float32Array; steps_done: number } | Fail;
  /** The effects on the held-out ids and the fine-tuned model's files; releases the run. */
  finetuneFinish(heldoutIds: Int32Array): FineTuneFinishResult | Fail;
  finetuneCancel(): { ok: true } | Fail;
  /** The loaded model's config.json and safetensors (F32). */
  modelFiles(): { ok: true; config_json: string; safetensors: Uint8Array } | Fail;
  delete(): void;
}

export interface HeadlightModule {
  Engine: { new (): Engine };
  /** Bytes of wasm linear memory; memory only grows, so this is also the peak. */
  memoryBytes(): number;
  /**
   * Checks config.json with the engine's parser and estimates the wasm memory
   * that loading a model.safetensors of `safetensorsBytes` and running it on
   * n_positions tokens takes, allocating nothing: call it before reading weights.
   */
  estimateMemory(configJson: string, safetensorsBytes: number): MemoryEstimate | Fail;
  /**
   * Spearman's rank correlation of a and b (same length >= 2; NaN when
   * either is constant): how well the gradient's order of the heads matches
   * an exact scan's (docs/heads.md).
   */
  spearmanRho(a: Float32Array, b: Float32Array): { ok: true; rho: number } | Fail;
  /**
   * One head's attention in run A (attnA [T_a x T_a] on idsA) and run B,
   * compared: the difference B - A, per-row distances, both runs' head-type
   * scores and the `top` largest differences (docs/circuits.md, "Compare two runs").
   */
  compareAttention(attnA: Float32Array, idsA: Int32Array, attnB: Float32Array, idsB: Int32Array, top: number):
    RunComparisonResult | Fail;
}

export interface MemoryEstimate extends Omit<ModelInfo, 'n_params'> {
  ok: true;
  n_params: number;
  /** The safetensors bytes, copied into the engine while the weights are converted. */
  file_bytes: number;
  /** f32 weights, 4 x n_params. */
  weights_bytes: number;
  /** Packed GEMM operands (wte^T included). */
  packed_bytes: number;
  /** Per-layer scratch for n_positions tokens. */
  session_bytes: number;
  /** Trace at n_positions tokens; attention [L x H x P x P] dominates. */
  trace_bytes: number;
  /** weights + max(file, packed) + session + trace: the file is freed before packing. */
  peak_bytes: number;
}

declare function createHeadlight(options?: HeadlightModuleOptions): Promise<HeadlightModule>;
export default createHeadlight;
