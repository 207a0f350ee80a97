/**
 * What the head grid's hover card says about one head: its name, its gain
 * when edited, its strongest (query -> key) pair in the shown analysis, its
 * type and head-type scores (docs/heads.md), and what a click does.
 */
import type { CopyingStatus } from '../app/copying-store';
import type { Analysis } from '../engine/protocol';
import { formatGain, headName } from '../state/heads';
import { topAttendedPair } from './heatmap';
import { copyingLine, headTypeRow, headTypeScoresLine, headTypesOf, isCopyingInductionHead } from './head-types';
import { renderTokenText } from './token-text';

/** copying: the model's copying scores (app/copying-store.ts): known, being computed, or none. */
export function headTooltip(
  button: HTMLButtonElement,
  analysis: Analysis | null,
  copying: CopyingStatus = { kind: 'none' },
): (Node | string)[] {
  const layer = Number(button.dataset['layer']);
  const head = Number(button.dataset['head']);
  const gain = Number(button.dataset['gain'] ?? 1);
  const title = document.createElement('strong');
  title.textContent = `Head ${headName({ layer, head })}`;
  const content: (Node | string)[] = [title];
  if (gain !== 1) content.push(gain === 0 ? ' · muted' : ` · gain ${formatGain(gain)}`);
  if (analysis && layer < analysis.n_layer && head < analysis.n_head) {
    const { T, n_head } = analysis;
    const pair = topAttendedPair(analysis.attn, (layer * n_head + head) * T * T, T);
    if (pair) {
      const line = document.createElement('div');
      const query = document.createElement('span');
      query.className = 'token';
      renderTokenText(query, analysis.tokens[pair.query] ?? '');
      const key = document.createElement('span');
      key.className = 'token';
      renderTokenText(key, analysis.tokens[pair.key] ?? '');
      line.append(
        'strongest: ',
        query,
        ` (${pair.query}) → `,
        key,
        ` (${pair.key}) · ${pair.weight.toFixed(3)}`,
      );
      content.push(line);
    }
    const i = layer * n_head + head;
    const types = analysis.head_types;
    const scores = document.createElement('div');
    scores.className = 'tooltip-scores';
    const badges = headTypesOf(types, i).map((type) => headTypeRow(type)!.badge);
    scores.textContent = `${badges.length > 0 ? `type ${badges.join(', ')}` : 'no type'} (≥ ${Number(types.threshold.toFixed(3))}): ${headTypeScoresLine(types, i)}`;
    content.push(scores);
    const line = copyingTooltipLine(copying, types, i);
    if (line) content.push(line);
  }
  // The importance overlay's figures (importance-overlay.ts), while it is shown.
  const importance = button.dataset['importance'];
  if (importance) {
    const line = document.createElement('div');
    line.className = 'tooltip-scores';
    line.textContent = importance;
    content.push(line);
  }
  const hint = document.createElement('div');
  hint.className = 'tooltip-hint';
  hint.textContent = 'click: mute · shift-click: solo · name below: details';
  content.push(hint);
  return content;
}

/**
 * Head i's copying line: its score once known; while the worker computes the
 * scores after a large model's load, that it does and how far (data-state
 * "computing", "ready" or "failed" for tests); null for a model without them.
 */
function copyingTooltipLine(copying: CopyingStatus, types: Analysis['head_types'], i: number): HTMLElement | null {
  if (copying.kind === 'none') return null;
  const line = document.createElement('div');
  line.className = 'tooltip-scores';
  line.dataset['role'] = 'tooltip-copying';
  line.dataset['state'] = copying.kind;
  if (copying.kind === 'computing') {
    const percent = Math.floor(copying.fraction * 100);
    line.textContent = `copying (OV circuit): computing… ${percent}%`;
  } else if (copying.kind === 'failed') {
    line.textContent = `copying (OV circuit): not computed (${copying.error})`;
  } else {
    const copies = copyingLine(copying.scores, i);
    line.textContent = isCopyingInductionHead(types, copying.scores, i)
      ? `${copies} (OV circuit): an induction head that copies`
      : `${copies} (OV circuit; > 0: raises the logit of the token it attends to)`;
  }
  return line;
}
