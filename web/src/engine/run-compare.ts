/**
 * Compare two runs, the worker side (issue 17 item 6, docs/circuits.md):
 * the selected head's attention in two runs, each a pass of its own
 * (Engine.headAttention: the engine's trace and edits stay), compared by
 * the engine (compareAttention: B - A, per-row distances, both runs'
 * head-type scores, the largest differences).
 *
 * A pair of models needs a second model loaded without replacing the
 * page's: a second Engine in this worker, in the same wasm module, one at a
 * time. A second worker would hold a second wasm memory (whose pages a
 * terminated worker does give back) but the two patterns would then cross
 * two message channels and the comparison would need a third party; one
 * module keeps the comparison one engine call, and the worker's queue keeps
 * the second model's passes from running beside a head edit's. The other
 * engine is deleted when another pair is asked or the panel lets go of it
 * (releaseCompare); its weights' memory then serves later allocations (wasm
 * memory never shrinks: the high-water mark stays, docs/architecture.md).
 * No DOM, no worker scope. Shapes: T tokens.
 */
import type { EngineCache } from './engine-cache';
import { tokenTexts, unwrap } from './engine-calls';
import type { Engine, HeadlightModule, ModelInfo } from './headlight-wasm';
import { shapeMismatch } from './model-index';
import type { LoadedModel, LocalModelFiles, Methods, RunCompareReply, RunSide } from './protocol';

type Params = Methods['compareRuns']['params'];
type ReadFiles = (name: string, baseUrl: string) => Promise<LocalModelFiles>;

/** The largest differences the reply names. */
export const LARGEST_DIFFERENCES = 8;

/** How the two runs' tokens line up, in words ('' when they are the same tokens). */
export function alignmentNote(idsA: Int32Array, idsB: Int32Array): string {
  const T = Math.min(idsA.length, idsB.length);
  let differ = 0;
  let first = -1;
  for (let t = 0; t < T; t++) {
    if (idsA[t] !== idsB[t]) {
      differ++;
      if (first < 0) first = t;
    }
  }
  const parts: string[] = [];
  if (idsA.length !== idsB.length) {
    parts.push(`A has ${idsA.length} tokens and B ${idsB.length}: aligned by position, the first ${T} compared`);
  }
  if (differ > 0) parts.push(`the tokens differ at ${differ} of ${T} positions (first at ${first})`);
  return parts.join('; ');
}

export class RunCompare {
  /** The other model of a pair of models, while that pair is asked. */
  private other: { name: string; engine: Engine; info: ModelInfo & { name: string } } | null = null;

  constructor(private readonly module: HeadlightModule) {}

  /** Methods.compareRuns. readFiles: a model folder's four files (the worker's fetch, with progress). */
  async compare(cache: EngineCache, params: Params, readFiles: ReadFiles): Promise<RunCompareReply> {
    const { layer, head, pair } = params;
    if (pair.kind !== 'models') this.release();
    const t0 = performance.now();
    const loaded = cache.model;
    const { engine, ids } = cache.engineWithEdits(params.text, params.gains, params.means);
    const run = (e: Engine, runIds: Int32Array, edited: boolean, label: string) => {
      const r = unwrap(e.headAttention(runIds, layer, head, edited), `head ${layer}.${head} (${label})`);
      return { ids: r.ids, side: { label, tokens: tokenTexts(e, r.ids), attn: r.attn } satisfies RunSide };
    };
    let a: ReturnType<typeof run>;
    let b: ReturnType<typeof run>;
    if (pair.kind === 'edits') {
      a = run(engine, ids, false, `${loaded.name}, unedited`);
      b = run(engine, ids, true, `${loaded.name}, with the page's edits`);
    } else if (pair.kind === 'prompts') {
      if (pair.textB === '') throw new Error('type a second prompt (or a corrupted prompt in Compare prompts)');
      const idsB = unwrap(engine.tokenize(pair.textB), 'tokenizer').ids;
      if (idsB.length === 0) throw new Error('the second prompt has no tokens');
      a = run(engine, ids, true, 'the text');
      b = run(engine, idsB, true, 'the second prompt');
    } else {
      const other = await this.otherModel(loaded, pair.model, () => readFiles(pair.model, pair.baseUrl));
      const idsB = unwrap(other.engine.tokenize(params.text), `tokenizer of ${pair.model}`).ids;
      a = run(engine, ids, false, `${loaded.name}, unedited`);
      b = run(other.engine, idsB, false, `${pair.model}, unedited`);
    }
    const { ok: _ok, ...comparison } = unwrap(
      this.module.compareAttention(a.side.attn, a.ids, b.side.attn, b.ids, LARGEST_DIFFERENCES),
      'compare runs',
    );
    return {
      kind: pair.kind, layer, head, a: a.side, b: b.side, comparison,
      alignment: alignmentNote(a.ids, b.ids),
      compute_ms: performance.now() - t0,
    };
  }

  /** The other model's engine, loaded once per pair: the previous one deleted first. */
  private async otherModel(loaded: LoadedModel, name: string, read: () => Promise<LocalModelFiles>) {
    if (this.other?.name === name) return this.other;
    this.release();
    const files = await read();
    const engine = new this.module.Engine();
    try {
      const info = { ...unwrap(engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt), `Model "${name}" could not be loaded`), name };
      const mismatch = shapeMismatch(loaded, info);
      if (mismatch) throw new Error(mismatch);
      this.other = { name, engine, info };
      return this.other;
    } catch (error) {
      engine.delete();
      throw error;
    }
  }

  /** Methods.releaseCompare: frees the other model, if any. */
  release(): boolean {
    if (!this.other) return false;
    this.other.engine.delete();
    this.other = null;
    return true;
  }
}
