/**
 * The Fine-tune heads panel's results: the loss on the examples and on the
 * held-out text before and after (the side effect), the loss per step, the
 * edited heads' attention on an example before and after, and the other
 * heads whose attention on the held-out text moved most. Draws what the
 * worker computed (engine/finetune-job.ts); no model quantity here.
 */
import type { FineTuneReply } from '../engine/protocol';
import { headName } from '../state/heads';
import type { HeadRef } from '../state/heads';
import { AttentionHeatmap } from './heatmap';
import { labelled } from './form-controls';
import { element } from './panel-dom';

/** How many of the other heads the moved list names. */
const MOVED_SHOWN = 5;

/** The heads of a reply, [l0, h0, l1, h1, ...] as refs. */
export function headsOf(flat: Int32Array): HeadRef[] {
  const heads: HeadRef[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) heads.push({ layer: flat[i]!, head: flat[i + 1]! });
  return heads;
}

/** The other heads (not edited), most moved first: [head, mean JS distance]. */
export function movedHeads(reply: FineTuneReply, n_head: number): [HeadRef, number][] {
  const edited = new Set(headsOf(reply.heads).map((h) => h.layer * n_head + h.head));
  const out: [HeadRef, number][] = [];
  reply.moved.forEach((value, i) => {
    if (!edited.has(i)) out.push([{ layer: Math.floor(i / n_head), head: i % n_head }, value]);
  });
  return out.sort((a, b) => b[1] - a[1]);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

/** The losses per step as an SVG polyline, lowest at the bottom. */
function lossCurve(losses: Float32Array): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const W = 240, H = 80;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'ft-curve');
  svg.setAttribute('role', 'img');
  const lo = Math.min(...losses), hi = Math.max(...losses);
  svg.setAttribute('aria-label', `loss on the examples per step, ${hi.toFixed(3)} to ${lo.toFixed(3)}`);
  const span = hi - lo || 1;
  const n = Math.max(1, losses.length - 1);
  const points = Array.from(losses, (v, i) => `${((i / n) * (W - 8) + 4).toFixed(1)},${(4 + ((hi - v) / span) * (H - 8)).toFixed(1)}`);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('class', 'ft-curve-line');
  svg.append(line);
  return svg;
}

export class FineTuneFigures {
  readonly root = element('div', 'ft-results', 'finetune-results');
  private readonly example = element('select', 'train-select', 'finetune-example');
  private readonly patterns = element('div', 'ft-patterns', 'finetune-patterns');
  private reply: FineTuneReply | null = null;

  constructor() {
    this.example.addEventListener('change', () => this.drawPatterns());
  }

  clear(): void {
    this.reply = null;
    this.root.replaceChildren();
  }

  draw(reply: FineTuneReply, n_head: number): void {
    this.reply = reply;
    const table = element('table', 'ft-losses', 'finetune-losses');
    table.innerHTML = '<thead><tr><th>Mean loss (nats/token)</th><th>before</th><th>after</th><th>change</th></tr></thead>';
    const body = element('tbody', '');
    const row = (label: string, role: string, before: number, after: number) => {
      const tr = element('tr', '', role);
      for (const text of [label, before.toFixed(3), after.toFixed(3), signed(after - before)]) {
        const td = element('td', '');
        td.textContent = text;
        tr.append(td);
      }
      body.append(tr);
    };
    row('Examples (trained on)', 'finetune-loss-examples', reply.examples_loss_before, reply.examples_loss_after);
    row(`Held-out text, ${reply.heldout_tokens} tokens (side effect)`, 'finetune-loss-heldout', reply.heldout_loss_before, reply.heldout_loss_after);
    table.append(body);

    const curve = element('figure', 'ft-figure');
    const caption = element('figcaption', 'note');
    const n = reply.losses.length;
    caption.textContent =
      `Loss on the examples before each of ${n} steps: ${reply.losses[0]!.toFixed(3)} at step 1, ` +
      `${reply.losses[n - 1]!.toFixed(3)} at step ${n}; ${reply.examples_loss_after.toFixed(3)} after the last`;
    curve.append(lossCurve(reply.losses), caption);

    const moved = element('div', 'ft-moved');
    const title = element('p', 'ft-subtitle');
    title.textContent = 'Other heads whose attention on the held-out text moved most (mean JS distance, 0 = unchanged, 1 = disjoint):';
    const list = element('ol', 'ft-moved-list', 'finetune-moved');
    for (const [head, value] of movedHeads(reply, n_head).slice(0, MOVED_SHOWN)) {
      const item = element('li', '');
      item.textContent = `${headName(head)}: ${value.toFixed(3)}`;
      item.dataset['head'] = headName(head);
      item.dataset['moved'] = value.toFixed(4);
      list.append(item);
    }
    const own = element('p', 'note', 'finetune-moved-own');
    own.textContent = `The edited heads themselves: ${headsOf(reply.heads)
      .map((h) => `${headName(h)} ${reply.moved[h.layer * n_head + h.head]!.toFixed(3)}`)
      .join(', ')}. Heads below the lowest edited layer cannot move: they never see the edit.`;
    moved.append(title, list, own);

    this.example.replaceChildren();
    reply.example_tokens.forEach((tokens, e) => {
      const option = document.createElement('option');
      option.value = String(e);
      option.textContent = `Example ${e + 1}: ${tokens.join('').slice(0, 40)}`;
      this.example.append(option);
    });
    const pick = labelled('Edited heads on', this.example);
    const notices = element('ul', 'note ft-notices', 'finetune-notices');
    for (const text of reply.notices) {
      const li = element('li', '');
      li.textContent = text;
      notices.append(li);
    }
    const edited = element('div', 'ft-edited');
    edited.append(pick, this.patterns);
    this.root.replaceChildren(notices, table, curve, edited, moved);
    this.drawPatterns();
  }

  /** Each edited head's attention on the chosen example, before and after. */
  private drawPatterns(): void {
    const reply = this.reply;
    if (!reply) return;
    const e = Number(this.example.value) || 0;
    const heads = headsOf(reply.heads);
    let offset = 0;
    for (let i = 0; i < e; i++) offset += heads.length * reply.example_tokens[i]!.length ** 2;
    const T = reply.example_tokens[e]!.length;
    this.patterns.replaceChildren();
    heads.forEach((head, k) => {
      const pair = element('div', 'ft-pair');
      const name = element('p', 'ft-subtitle');
      name.textContent = `Head ${headName(head)}`;
      pair.append(name);
      for (const [label, attn] of [['before', reply.edited_before], ['after', reply.edited_after]] as const) {
        const cell = element('figure', 'ft-pattern');
        const heatmap = new AttentionHeatmap();
        heatmap.canvas.className = 'ft-heatmap';
        heatmap.canvas.setAttribute('role', 'img');
        heatmap.canvas.setAttribute('aria-label', `head ${headName(head)} ${label} fine-tuning, example ${e + 1}`);
        heatmap.canvas.dataset['role'] = `finetune-${label}`;
        heatmap.draw(attn, offset + k * T * T, T);
        const caption = element('figcaption', 'note');
        caption.textContent = label;
        cell.append(heatmap.canvas, caption);
        pair.append(cell);
      }
      this.patterns.append(pair);
    });
  }
}
