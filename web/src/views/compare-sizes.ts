/**
 * The Compare sizes view: the shipped models (every model of the index but
 * the test model) on the text of the page, side by side: each one's heads'
 * attention as a small grid, the count of heads of each type (the grid's
 * badges), and its loss in bits per byte; a sentence says what to notice
 * (compare-sizes-data.ts). The reader starts it with a button: it runs in a
 * second engine worker of its own, which loads one model at a time (so
 * memory holds one model's engine besides the page's) and is ended when the
 * last model has run; the page's model and edits are untouched.
 */
import type { ViewFactory } from '../app/view';
import { EngineClient } from '../engine/client';
import { fetchModelIndex, modelsBaseUrl } from '../engine/model-index';
import type { Progress } from '../engine/protocol';
import { formatBytes } from '../state/format';
import { AttentionHeatmap } from './heatmap';
import { HEAD_TYPE_ROWS } from './head-types';
import { element } from './panel-dom';
import { bitsPerByte, type SizeRun, typeCounts, whatToNotice } from './compare-sizes-data';

/** The test model of tests/fixtures/ is served beside the shipped ones; it is not compared. */
const TEST_MODEL = 'tiny-gpt';

interface SizesElements {
  run: HTMLButtonElement;
  status: HTMLElement;
  progress: HTMLProgressElement;
  models: HTMLElement;
  note: HTMLElement;
}

function build(container: HTMLElement): SizesElements {
  const controls = element('div', 'sz-controls');
  const run = element('button', 'sz-run', 'sizes-run');
  run.type = 'button';
  run.textContent = 'Compare on this text';
  const status = element('span', 'sz-status', 'sizes-status');
  status.setAttribute('aria-live', 'polite');
  const progress = element('progress', 'sz-progress');
  progress.hidden = true;
  controls.append(run, status, progress);
  const note = element('p', 'sz-note', 'sizes-note');
  const models = element('div', 'sz-models', 'sizes-models');
  container.append(controls, note, models);
  return { run, status, progress, models, note };
}

function modelFigure(run: SizeRun): HTMLElement {
  const figure = element('figure', 'sz-model', 'sizes-model');
  figure.dataset['model'] = run.name;
  const title = element('figcaption', 'sz-title');
  const name = element('strong', 'sz-name');
  name.textContent = run.name;
  const shape = element('span', 'sz-shape');
  shape.textContent = ` ${run.n_layer} layers × ${run.n_head} heads · ${(run.n_params / 1e6).toFixed(2)}M parameters`;
  title.append(name, shape);

  const counts = typeCounts(run.head_types, run.n_layer * run.n_head);
  const list = element('ul', 'sz-counts', 'sizes-counts');
  for (const row of HEAD_TYPE_ROWS) {
    const item = element('li', 'sz-count');
    item.dataset['type'] = row.type;
    item.textContent = `${row.badge} ${counts[row.type]}`;
    item.title = `${counts[row.type]} heads whose type is ${row.type.replace('_', '-')}: ${row.meaning}`;
    list.append(item);
  }
  const none = element('li', 'sz-count');
  none.dataset['type'] = 'none';
  none.textContent = `none ${counts.none}`;
  list.append(none);

  const loss = element('p', 'sz-loss', 'sizes-loss');
  loss.textContent =
    `loss ${bitsPerByte(run).toFixed(3)} bits/byte · ${run.mean_loss.toFixed(3)} nats/token (vocabulary ${run.vocab_size})` +
    (run.truncated ? ` · first ${run.T} tokens` : '');

  const grid = element('div', 'sz-grid');
  grid.style.setProperty('--n-head', String(run.n_head));
  const { T } = run;
  for (let i = 0; i < run.n_layer * run.n_head; i++) {
    const heatmap = new AttentionHeatmap();
    heatmap.canvas.className = 'sz-thumb';
    heatmap.canvas.dataset['role'] = 'sizes-thumb';
    heatmap.canvas.title = `head ${Math.floor(i / run.n_head)}.${i % run.n_head}`;
    heatmap.draw(run.attn, i * T * T, T);
    grid.append(heatmap.canvas);
  }
  figure.append(title, list, loss, grid);
  return figure;
}

class CompareSizesView {
  /** Everything the view holds: the compared text and runs, whether a comparison runs, the page's text now. */
  private readonly state: { text: string; runs: SizeRun[]; running: boolean; pageText: string } = {
    text: '',
    runs: [],
    running: false,
    pageText: '',
  };

  constructor(private readonly dom: SizesElements) {
    dom.run.addEventListener('click', () => void this.compare());
  }

  pageTextIs(text: string): void {
    this.state.pageText = text;
    if (!this.state.running && this.state.runs.length > 0) {
      this.dom.status.textContent = text === this.state.text ? this.doneText() : 'The text changed since: compare again to see the models on it.';
    }
  }

  private doneText(): string {
    return `${this.state.runs.length} models on the same ${this.state.text.length}-character text.`;
  }

  private async compare(): Promise<void> {
    const s = this.state;
    const { dom } = this;
    if (s.running || s.pageText.length === 0) return;
    s.running = true;
    s.text = s.pageText;
    s.runs = [];
    dom.run.disabled = true;
    dom.models.replaceChildren();
    dom.note.textContent = '';
    const engine = new EngineClient();
    const report = (what: string) => (p: Progress) => {
      dom.status.textContent = `${what}: ${formatBytes(p.loaded)}${p.total > 0 ? ` of ${formatBytes(p.total)}` : ''}`;
      dom.progress.hidden = p.total === 0;
      if (p.total > 0) {
        dom.progress.max = p.total;
        dom.progress.value = p.loaded;
      }
    };
    try {
      const index = await fetchModelIndex();
      const models = index.models.filter((m) => m.name !== TEST_MODEL);
      await engine.call('init', {
        scriptUrl: new URL('wasm/headlight.js', document.baseURI).href,
        wasmUrl: new URL('wasm/headlight.wasm', document.baseURI).href,
      }, report('Starting a second engine'));
      for (const entry of models) {
        const loaded = await engine.call('loadModel', { name: entry.name, baseUrl: new URL(`${entry.name}/`, modelsBaseUrl()).href }, report(`Loading ${entry.name}`));
        dom.status.textContent = `Running ${entry.name}…`;
        const { core, attention } = await engine.call('analyze', {
          text: s.text,
          gains: new Float32Array(loaded.n_layer * loaded.n_head).fill(1),
          topK: 1,
          position: -1,
          heldAttention: 0,
        });
        const run: SizeRun = {
          name: entry.name,
          n_layer: loaded.n_layer,
          n_head: loaded.n_head,
          n_params: loaded.n_params,
          vocab_size: loaded.vocab_size,
          T: core.T,
          truncated: core.truncated,
          attn: attention.attn,
          head_types: core.head_types,
          loss: core.loss,
          tokens: core.tokens,
          mean_loss: core.mean_loss,
        };
        s.runs.push(run);
        dom.models.append(modelFigure(run));
      }
      dom.note.textContent = whatToNotice(s.runs);
      dom.status.textContent = this.doneText();
    } catch (error) {
      dom.status.textContent = `The comparison stopped: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      // The second engine's memory goes with its worker.
      engine.terminate();
      s.running = false;
      dom.run.disabled = false;
      dom.progress.hidden = true;
      dom.models.dataset['count'] = String(s.runs.length);
    }
  }
}

export const compareSizesView: ViewFactory = ({ root }) => {
  const container = root.querySelector<HTMLElement>('[data-role="compare-sizes"]');
  if (!container) return { label: 'sizes', draw() {} };
  const view = new CompareSizesView(build(container));
  return {
    label: 'sizes',
    draw({ state }) {
      view.pageTextIs(state.text);
    },
  };
};
