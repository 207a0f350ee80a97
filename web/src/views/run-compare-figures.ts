/**
 * What "Compare two runs" shows, as data: the models a pair of models can
 * use (from the served model index: other models and checkpoints of the
 * loaded model's shape, and the others named with their shape), and the
 * three maps as export figures (circuit-figures.ts): run A's and run B's
 * attention (viridis) and the difference B − A (RdBu, white at 0, blue where
 * B attends more), each [T x T] with query rows and key columns. Numbers as
 * the engine gave them; nothing is computed here but colours.
 */
import type { LoadedModel, RunCompareReply } from '../engine/protocol';
import { type ModelEntry, shapeMismatch } from '../engine/model-index';
import { tokenLabel } from './attention-plot';
import { type MatrixFigure, divergingCss } from './circuit-figures';
import { inkOn, lutCss, viridis } from './colormap';

/** A model a pair of models can name: a served model or a checkpoint of one (value "model/checkpoint"). */
export interface RunModelChoice {
  value: string;
  label: string;
  /** Path under the models folder, e.g. "attn-only-2l/checkpoints/step-03500/". */
  path: string;
  /** Why it cannot be compared with the loaded model (null: it can). */
  mismatch: string | null;
}

/** The models of the index as choices for `loaded`: those of its shape first, then the others with a reason. */
export function runModelChoices(models: ModelEntry[], loaded: LoadedModel): RunModelChoice[] {
  const choices: RunModelChoice[] = [];
  for (const m of models) {
    const mismatch = shapeMismatch(loaded, m);
    if (m.name !== loaded.name) choices.push({ value: m.name, label: m.name, path: `${m.name}/`, mismatch });
    for (const c of m.checkpoints ?? []) {
      choices.push({ value: `${m.name}/${c}`, label: `${m.name}, checkpoint ${c}`, path: `${m.name}/checkpoints/${c}/`, mismatch });
    }
  }
  return [...choices.filter((c) => !c.mismatch), ...choices.filter((c) => c.mismatch)];
}

export type RunMap = 'a' | 'b' | 'diff';

/** The largest |B − A| (at least a small floor, so an all-zero map is white). */
export function diffScale(reply: RunCompareReply): number {
  return Math.max(reply.comparison.max_abs, 1e-6);
}

/** One of the three maps of a reply as a figure (aligned part for all three: T = min(T_a, T_b) for diff). */
export function runMapFigure(reply: RunCompareReply, map: RunMap): MatrixFigure {
  const head = `${reply.layer}.${reply.head}`;
  if (map === 'diff') {
    const { T, diff } = reply.comparison;
    const labels = reply.a.tokens.slice(0, T).map((t, i) => `${i} ${tokenLabel(t)}`);
    const scale = diffScale(reply);
    return {
      title: `Head ${head}: B − A (B: ${reply.b.label}; A: ${reply.a.label})`,
      rowLabels: labels,
      colLabels: labels,
      values: diff,
      fill: (r, c) => (c > r ? { fill: '#e9e9e5', ink: '#1d1e22' } : divergingCss(diff[r * T + c]!, scale)),
      valueName: 'b_minus_a',
    };
  }
  const side = reply[map];
  const T = side.tokens.length;
  const labels = side.tokens.map((t, i) => `${i} ${tokenLabel(t)}`);
  return {
    title: `Head ${head}, run ${map.toUpperCase()}: ${side.label}`,
    rowLabels: labels,
    colLabels: labels,
    values: side.attn,
    fill: (r, c) => {
      if (c > r) return { fill: '#e9e9e5', ink: '#1d1e22' };
      const p = side.attn[r * T + c]!;
      return { fill: lutCss(viridis, p), ink: inkOn(viridis, p) };
    },
    valueName: 'attention',
  };
}
