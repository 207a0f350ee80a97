/**
 * The list of served models, models/index.json, written at build time by
 * web/config/models-plugin.ts.
 */
export interface ModelEntry {
  name: string;
  /** One line for the picker. */
  description: string;
  /** The four files together: what the page downloads. */
  bytes: number;
  /** The shape, when the index has it (written since issue 4). */
  n_params?: number;
  n_layer?: number;
  n_head?: number;
  n_embd?: number;
  n_positions?: number;
  vocab_size?: number;
  attn_only?: boolean;
  /** Checkpoints served under <name>/checkpoints/<checkpoint>/ (same shape): "Compare two runs" offers them. */
  checkpoints?: string[];
  /** True when <name>/timeline.json is served with them: the Training view (views/timeline.ts). */
  timeline?: boolean;
}

/** What a model must share with another for their heads to be compared one by one (Compare two runs). */
export type ModelShape = Pick<ModelEntry, 'name' | 'n_layer' | 'n_head' | 'n_embd' | 'vocab_size'>;

/** null when `other` has the shape of `loaded`; else a sentence naming both shapes. */
export function shapeMismatch(loaded: ModelShape, other: ModelShape): string | null {
  const shape = (m: ModelShape) => `${m.n_layer ?? '?'} layers × ${m.n_head ?? '?'} heads, width ${m.n_embd ?? '?'}, vocabulary ${m.vocab_size ?? '?'}`;
  const same = other.n_layer === loaded.n_layer && other.n_head === loaded.n_head && other.n_embd === loaded.n_embd && other.vocab_size === loaded.vocab_size;
  return same ? null : `${other.name} has ${shape(other)}; ${loaded.name} has ${shape(loaded)}: two models are compared head by head, so they need the same shape`;
}

export interface ModelIndex {
  default: string;
  models: ModelEntry[];
}

export function modelsBaseUrl(): URL {
  return new URL('models/', document.baseURI);
}

export async function fetchModelIndex(): Promise<ModelIndex> {
  const url = new URL('index.json', modelsBaseUrl());
  const response = await fetch(url);
  if (!response.ok) throw new Error(`no model list at ${url.pathname} (HTTP ${response.status})`);
  const index = (await response.json()) as Partial<ModelIndex>;
  if (!Array.isArray(index.models) || typeof index.default !== 'string') {
    throw new Error(`${url.pathname} is not a model list`);
  }
  const models = index.models.filter(
    (m): m is ModelEntry =>
      typeof m?.name === 'string' && /^[\w.-]+$/.test(m.name) && typeof m.bytes === 'number',
  );
  for (const m of models) {
    if (typeof m.description !== 'string') m.description = '';
    m.checkpoints = Array.isArray(m.checkpoints) ? m.checkpoints.filter((c) => typeof c === 'string' && /^[\w.-]+$/.test(c)) : [];
  }
  if (models.length === 0) throw new Error('no model is served: build with a model in models/ or tests/fixtures/tiny-gpt/');
  return { default: index.default, models };
}
