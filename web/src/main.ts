/**
 * The page's controller: starts the engine worker, loads the default model,
 * and connects the reader's input (text, head clicks, model choice) to
 * analyses drawn by the views. Compute happens in the worker; this file only
 * keeps state and schedules.
 */
import './style.css';
import { EngineClient } from './engine/client';
import { fetchModelIndex, modelsBaseUrl } from './engine/model-index';
import type { Analysis, LoadedModel } from './engine/protocol';
import { type AppState, countMuted, createState, setModel, toggleMute, TOP_K } from './state/app-state';
import { LatestRunner } from './state/latest-runner';
import { type AppSnapshot, ChangeEmitter, type HeadlightApp, type HeadEdit, type PanelName, provideApp } from './state/app-api';
import { HeadGridView } from './views/head-grid';
import { drawColorbar } from './views/heatmap';
import { ModelPicker } from './views/model-picker';
import { PredictionsView } from './views/predictions';
import { formatBytes, StatusView } from './views/status';
import { TokensView } from './views/tokens';

const TEXT_DEBOUNCE_MS = 150;

function element<T extends HTMLElement>(role: string): T {
  const found = document.querySelector<T>(`[data-role="${role}"]`);
  if (!found) throw new Error(`index.html lacks the element data-role="${role}"`);
  return found;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function describeModel(model: LoadedModel): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    `${plural(model.n_layer, 'layer')} × ${plural(model.n_head, 'head')}`,
    `d_model ${model.n_embd}`,
    `${formatCount(model.n_params)} parameters`,
    model.attn_only ? 'attention only' : null,
    formatBytes(model.bytes),
  ]
    .filter((part) => part !== null)
    .join(' · ');
}

const state: AppState = createState();
const client = new EngineClient();
const status = new StatusView(document.body, element('message'));
const tokens = new TokensView(document.body);
const predictions = new PredictionsView(document.body, TOP_K);
const grid = new HeadGridView(document.body, onHeadToggle);
const picker = new ModelPicker(element<HTMLSelectElement>('model-picker'), (name) => {
  void switchModel(name);
});
const textInput = element<HTMLTextAreaElement>('text-input');
drawColorbar(element<HTMLCanvasElement>('colorbar'));

function render(analysis: Analysis, roundTripMs: number): void {
  const t0 = performance.now();
  tokens.render(analysis);
  predictions.render(analysis);
  grid.render(analysis, state.gains);
  const paintMs = performance.now() - t0;
  const { tokenize_ms, forward_ms } = analysis.timing;
  const pass =
    analysis.rerun_from_layer === 0
      ? 'full forward pass'
      : analysis.rerun_from_layer >= analysis.n_layer
        ? 'no layer rerun'
        : `rerun from layer ${analysis.rerun_from_layer}`;
  const muted = countMuted(state);
  status.setTiming(
    `${pass}: ${forward_ms.toFixed(1)} ms · tokenize ${tokenize_ms.toFixed(1)} ms · ` +
      `round trip ${roundTripMs.toFixed(1)} ms · draw ${paintMs.toFixed(1)} ms` +
      (muted > 0 ? ` · ${muted} head${muted === 1 ? '' : 's'} muted` : ''),
  );
  document.documentElement.dataset['ready'] = 'true';
  delete document.documentElement.dataset['stale'];
}

// Always analyses the newest text and gains; see LatestRunner.
const runner = new LatestRunner(async () => {
  const model = state.model;
  if (!model) return;
  if (state.text.length === 0) {
    document.documentElement.dataset['stale'] = 'true';
    tokens.clear('Type some text to see its tokens.');
    status.showNotice('The text is empty: type something and the model will read it.');
    return;
  }
  const t0 = performance.now();
  try {
    const analysis = await client.call('analyze', {
      text: state.text,
      gains: state.gains.slice(),
      topK: TOP_K,
    });
    if (analysis.model !== state.model?.name) return;  // a newer model arrived meanwhile
    render(analysis, performance.now() - t0);
    status.clearMessage();
  } catch (error) {
    status.showError(`Could not run the model on this text: ${messageOf(error)}`);
  }
});

function onHeadToggle(layer: number, head: number): void {
  if (!state.model) return;
  const muted = toggleMute(state, layer, head);
  grid.setMuted(layer, head, muted);
  runner.request();
}

let debounce: number | undefined;
textInput.addEventListener('input', () => {
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => {
    state.text = textInput.value;
    runner.request();
  }, TEXT_DEBOUNCE_MS);
});

async function switchModel(name: string): Promise<void> {
  picker.setBusy(true);
  status.setSummary(`Loading model ${name}…`);
  try {
    const loaded = await client.call(
      'loadModel',
      { name, baseUrl: new URL(`${name}/`, modelsBaseUrl()).href },
      (progress) => status.showProgress('Downloading', progress),
    );
    setModel(state, loaded);
    grid.setShape(loaded.n_layer, loaded.n_head);
    status.setSummary(describeModel(loaded));
    status.clearMessage();
    runner.request();
  } catch (error) {
    // The worker keeps the previous model: say what went wrong and carry on with it.
    status.showError(messageOf(error));
    picker.show(state.model?.name ?? null);
    status.setSummary(state.model ? describeModel(state.model) : 'No model loaded.');
  } finally {
    status.hideProgress();
    picker.setBusy(false);
  }
}

async function start(): Promise<void> {
  textInput.value = state.text;
  try {
    await client.call(
      'init',
      {
        scriptUrl: new URL('wasm/headlight.js', document.baseURI).href,
        wasmUrl: new URL('wasm/headlight.wasm', document.baseURI).href,
      },
      (progress) => status.showProgress('Downloading', progress),
    );
  } catch (error) {
    status.hideProgress();
    status.setSummary('The engine did not start.');
    status.showError(`The engine could not start: ${messageOf(error)}`);
    return;
  }
  let index;
  try {
    index = await fetchModelIndex();
  } catch (error) {
    status.hideProgress();
    status.setSummary('No model loaded.');
    status.showError(messageOf(error));
    return;
  }
  picker.setModels(index.models);
  const first = index.models.find((m) => m.name === index.default) ?? index.models[0]!;
  picker.show(first.name);
  await switchModel(first.name);
}

// --- The app API (state/app-api.ts), first version: full wiring follows. ---
const changes = new ChangeEmitter();
const extra = { selectedHead: { layer: 0, head: 0 }, selectedPosition: -1, view: 'heatmap' as const, colorMode: 'loss' as const, hidden: [] as PanelName[] };
function snapshot(): AppSnapshot {
  const H = state.model?.n_head ?? 0;
  const edits: HeadEdit[] = [];
  state.gains.forEach((gain, i) => {
    if (gain !== 1) edits.push({ layer: Math.floor(i / H), head: i % H, gain });
  });
  return {
    model: state.model?.name ?? null,
    n_layer: state.model?.n_layer ?? 0,
    n_head: H,
    text: state.text,
    edits,
    selectedHead: { ...extra.selectedHead },
    selectedPosition: extra.selectedPosition,
    view: extra.view,
    colorMode: extra.colorMode,
    hidden: extra.hidden.slice(),
    embed: false,
  };
}
const app: HeadlightApp = {
  getState: snapshot,
  getAnalysis: () => null,
  setText(text) {
    state.text = text;
    textInput.value = text;
    runner.request();
    changes.emit(snapshot(), 'text');
  },
  setEdits(edits) {
    state.gains.fill(1);
    for (const e of edits) app.setGain(e.layer, e.head, e.gain);
  },
  setGain(layer, head, gain) {
    if (!state.model) return;
    state.gains[layer * state.model.n_head + head] = gain;
    grid.setMuted(layer, head, gain === 0);
    runner.request();
    changes.emit(snapshot(), 'edits');
  },
  setMuted(heads) {
    app.setEdits(heads.map((h) => ({ ...h, gain: 0 })));
  },
  resetEdits() {
    app.setEdits([]);
  },
  selectHead(layer, head) {
    extra.selectedHead = { layer, head };
  },
  selectPosition(position) {
    extra.selectedPosition = position;
  },
  setView() {},
  setColorMode() {},
  setHidden(panels) {
    extra.hidden = panels.slice();
  },
  setModel: (name) => switchModel(name),
  onChange: (listener) => changes.on(listener),
  ready: () => new Promise((resolve) => { const off = changes.on((_s, reason) => { if (reason === 'analysis') { off(); resolve(); } }); }),
};
provideApp(app);

void start();
