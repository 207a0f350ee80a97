/**
 * Exports of which heads matter, beside the other exports (export.ts): one
 * row per head as CSV (layer, head, type, the six head-type scores of the
 * shown pass, the last exact scan's Δ mean loss and Δ log p, the last
 * gradient, the pruning rank), the pruning curves as CSV (one row per head
 * removed), and everything as one JSON file ([L][H] arrays). Numbers are
 * written as the engine gave them (a float32 read as a double prints
 * exactly, so parsing gives the engine's bits back); a figure not computed
 * is an empty CSV cell and null in JSON.
 */
import type { Frame, PageActions } from '../app/view';
import type { Analysis, HeadImportance, PruningCurves } from '../engine/protocol';
import { headName } from '../state/heads';
import { save } from './export';
import type { ImportanceResults } from './importance-results';

const SCORE_NAMES = ['previous_token', 'first_token', 'duplicate_token', 'induction', 'local', 'entropy'] as const;

/** A number as written: exact, or '' (CSV) for NaN and missing. */
function cell(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : String(value);
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
function field(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Each head's type at the threshold, as the engine names it ("previous_token", ..., "none"). */
function typeOf(analysis: Analysis, i: number): string {
  return analysis.head_types.types[i] ?? 'none';
}

export function headsCsv(analysis: Analysis, results: ImportanceResults): string {
  const { n_layer: L, n_head: H } = analysis;
  const { scan, gradient, pruning } = results;
  const rank = new Map<number, number>();
  pruning?.order.forEach((head, r) => rank.set(head, r + 1));
  const header = ['layer', 'head', 'type', ...SCORE_NAMES, 'scan_mode', 'scan_position', 'delta_mean_loss', 'delta_logprob', 'gradient', 'pruning_rank'];
  const rows = [header.join(',')];
  for (let i = 0; i < L * H; i++) {
    rows.push([
      String(Math.floor(i / H)),
      String(i % H),
      typeOf(analysis, i),
      ...SCORE_NAMES.map((name) => cell(analysis.head_types[name][i])),
      scan?.kind ?? '',
      scan ? String(scan.position) : '',
      cell(scan?.delta_mean_loss[i]),
      cell(scan?.delta_logprob[i]),
      cell(gradient?.gradient[i]),
      rank.has(i) ? String(rank.get(i)) : '',
    ].map(field).join(','));
  }
  return `${rows.join('\n')}\n`;
}

export function pruningCsv(curves: PruningCurves): string {
  const n = curves.order.length;
  const name = (i: number | undefined) => (i === undefined ? '' : headName({ layer: Math.floor(i / curves.n_head), head: i % curves.n_head }));
  const rows = ['removed,fraction_removed,importance_head,importance_mean_loss,random_head,random_mean_loss'];
  for (let k = 0; k <= n; k++) {
    rows.push([
      String(k),
      String(k / n),
      name(k > 0 ? curves.order[k - 1] : undefined),
      cell(curves.mean_loss[k]),
      name(k > 0 ? curves.random_order[k - 1] : undefined),
      cell(curves.random_mean_loss[k]),
    ].join(','));
  }
  return `${rows.join('\n')}\n`;
}

/** [L][H] nested arrays, NaN -> null. */
function perHead(values: ArrayLike<number>, L: number, H: number): (number | null)[][] {
  return Array.from({ length: L }, (_, l) =>
    Array.from({ length: H }, (_, h) => {
      const v = values[l * H + h]!;
      return Number.isFinite(v) ? v : null;
    }),
  );
}

function scanJson(scan: HeadImportance, L: number, H: number) {
  return {
    mode: scan.kind,
    position: scan.position,
    mean_loss: scan.mean_loss,
    logprob: scan.logprob,
    delta_mean_loss: perHead(scan.delta_mean_loss, L, H),
    delta_logprob: perHead(scan.delta_logprob, L, H),
  };
}

export function importanceJson(analysis: Analysis, text: string, results: ImportanceResults): string {
  const { n_layer: L, n_head: H } = analysis;
  const { scan, gradient, pruning } = results;
  const name = (i: number) => headName({ layer: Math.floor(i / H), head: i % H });
  const finite = (values: Float32Array) => Array.from(values, (v) => (Number.isFinite(v) ? v : null));
  return JSON.stringify({
    format: 'headlight-importance/1',
    note: '[L][H] arrays; loss in nats; scan: each head removed alone on top of the edits, minus the base; gradient: d mean loss / d gain',
    model: analysis.model,
    text,
    n_layer: L,
    n_head: H,
    ids: Array.from(analysis.ids),
    tokens: analysis.tokens,
    head_types: {
      threshold: analysis.head_types.threshold,
      types: perHeadTypes(analysis, L, H),
      ...Object.fromEntries(SCORE_NAMES.map((score) => [score, perHead(analysis.head_types[score], L, H)])),
    },
    scan: scan ? scanJson(scan, L, H) : null,
    gradient: gradient ? perHead(gradient.gradient, L, H) : null,
    pruning: pruning
      ? {
          mode: pruning.mode,
          rescan_every: pruning.rescan_every,
          seed: pruning.seed,
          order: Array.from(pruning.order, name),
          mean_loss: finite(pruning.mean_loss),
          random_order: Array.from(pruning.random_order, name),
          random_mean_loss: finite(pruning.random_mean_loss),
        }
      : null,
  });
}

function perHeadTypes(analysis: Analysis, L: number, H: number): string[][] {
  return Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => typeOf(analysis, l * H + h)));
}

/** The three buttons in the export panel (data-importance-export); the files of the last frame. */
export class ImportanceExport {
  private frame: Frame | null = null;
  private readonly pruningButton: HTMLButtonElement | null;

  constructor(root: HTMLElement, private readonly results: ImportanceResults, page: PageActions) {
    const jobs: Record<string, (analysis: Analysis) => void> = {
      'heads-csv': (a) => save(new Blob([headsCsv(a, this.results)], { type: 'text/csv' }), `headlight-${a.model}-heads.csv`),
      'pruning-csv': (a) => {
        if (!this.results.pruning) throw new Error('compute the pruning curves first');
        save(new Blob([pruningCsv(this.results.pruning)], { type: 'text/csv' }), `headlight-${a.model}-pruning.csv`);
      },
      'importance-json': (a) =>
        save(new Blob([importanceJson(a, this.frame?.state.text ?? '', this.results)], { type: 'application/json' }), `headlight-${a.model}-heads.json`),
    };
    for (const button of root.querySelectorAll<HTMLButtonElement>('button[data-importance-export]')) {
      const job = jobs[button.dataset['importanceExport'] ?? ''];
      if (!job) continue;
      button.addEventListener('click', () => {
        try {
          const analysis = this.frame?.analysis;
          if (!analysis) throw new Error('nothing is drawn yet');
          job(analysis);
        } catch (error) {
          page.showError(`Export failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    }
    this.pruningButton = root.querySelector<HTMLButtonElement>('button[data-importance-export="pruning-csv"]');
    results.onChange(() => this.update());
    this.update();
  }

  draw(frame: Frame): void {
    this.frame = frame;
  }

  private update(): void {
    if (this.pruningButton) this.pruningButton.disabled = !this.results.pruning;
  }
}
