/**
 * The page's controller: starts the engine worker, loads a model, keeps the
 * reader's choices (state/app-state.ts) in the URL hash (state/url-state.ts),
 * and connects input (text, head clicks, selections) to analyses drawn by
 * the views. Compute happens in the worker; this file keeps state and
 * schedules. The same operations are the app API (state/app-api.ts) used by
 * the embed code.
 */
import './style.css';
import { installEmbedding } from './embed/page';
import { EngineClient } from './engine/client';
import { fetchModelIndex, modelsBaseUrl } from './engine/model-index';
import { openLocalModel } from './engine/open-local';
import type {
  Analysis,
  AnalysisCore,
  AttentionPart,
  LoadedModel,
  PredictionsPart,
  Progress,
} from './engine/protocol';
import {
  type AnalysisSummary,
  type AppSnapshot,
  type ChangeReason,
  ChangeEmitter,
  type HeadlightApp,
  type HeadRef,
  PANELS,
  type PanelName,
  provideApp,
} from './state/app-api';
import {
  type AppState,
  countMuted,
  createState,
  resetGains,
  setGain,
  setModel,
  toggleLayer,
  toggleMute,
  toggleSolo,
  TOP_K,
} from './state/app-state';
import { LatestRunner } from './state/latest-runner';
import {
  defaultUrlState,
  editsFromGains,
  gainsFromEdits,
  MAX_GAIN,
  parseHash,
  serialiseHash,
  type UrlState,
} from './state/url-state';
import { EditsView } from './views/edits';
import { ExportView } from './views/export';
import { HeadDetailView } from './views/head-detail';
import { HeadGridView } from './views/head-grid';
import { drawColorbar } from './views/heatmap';
import { ModelPicker } from './views/model-picker';
import { predictionsOf, predictionsOfPart, PredictionsView } from './views/predictions';
import { PresetsView } from './views/presets';
import { formatBytes, StatusView } from './views/status';
import { TokensView } from './views/tokens';
import { Tooltip } from './views/tooltip';

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

// ---- State, engine and views ----

const state: AppState = createState();
const client = new EngineClient();
const changes = new ChangeEmitter();
const tooltip = new Tooltip();
const status = new StatusView(document.body, element('message'));
const textInput = element<HTMLTextAreaElement>('text-input');
const urlNotice = element('url-notice');
/** The analysis every view draws (the predictions may already show a newer one). */
let analysis: Analysis | null = null;
/** Edits from the URL, applied once the model they name is loaded. */
let pendingEdits: Pick<UrlState, 'muted' | 'gains'> | null = null;
let readyResolve: (() => void) | null = null;
const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));

const tokens = new TokensView(document.body, {
  selectPosition: (t) => selectPosition(t),
  setColorMode: (mode) => {
    state.colorMode = mode;
    changed('view');
  },
  setSource: (source) => {
    state.source = source;
    changed('view');
  },
});
const predictions = new PredictionsView(document.body, TOP_K);
const grid = new HeadGridView(
  document.body,
  {
    toggle: (layer, head) => edit(() => toggleMute(state, layer, head)),
    solo: (layer, head) => edit(() => toggleSolo(state, layer, head)),
    toggleLayer: (layer) => edit(() => toggleLayer(state, layer)),
    select: (layer, head) => selectHead(layer, head),
    prepare: (kind, layer, head) =>
      prepareEdit((ahead) => {
        if (kind === 'layer') toggleLayer(ahead, layer);
        else if (kind === 'solo') toggleSolo(ahead, layer, head);
        else toggleMute(ahead, layer, head);
      }),
  },
  tooltip,
);
const detail = new HeadDetailView(
  document.body,
  {
    setGain: (layer, head, gain) => edit(() => setGain(state, layer, head, gain)),
    setView: (view) => {
      state.view = view;
      changed('view');
    },
    selectPosition: (t) => selectPosition(t),
  },
  tooltip,
);
const edits = new EditsView(document.body, {
  reset: (layer, head) => edit(() => setGain(state, layer, head, 1)),
  resetAll: () => edit(() => resetGains(state)),
  select: (layer, head) => selectHead(layer, head),
});
new PresetsView(document.body, (text) => setText(text, true), textInput);
new ExportView(
  document.body,
  {
    analysis: () => analysis,
    head: () => state.selectedHead,
    position: () => queryPosition(),
    text: () => state.text,
    gains: () => state.gains,
    gridCanvases: () => grid.canvases(),
  },
  (message) => status.showError(message),
);
const picker = new ModelPicker(
  element<HTMLSelectElement>('model-picker'),
  (name) => void switchModel(name),
  (files) => void openLocalFiles(files),
);
drawColorbar(element<HTMLCanvasElement>('colorbar'));

// ---- Drawing ----
//
// After a head edit on the same tokens, the worker answers in two messages:
// first the predictions at the shown position (PredictionsPart: it reran
// the edited layers and the LM head at that one position), then everything
// else: every position's predictions and losses (AnalysisCore) and the
// attention. The bars are drawn the moment the first arrives, the mean loss
// the moment the second does; the attention views (head grid, detail,
// tokens) once the frame with the bars is painted, so the bars never wait
// for 32 heatmaps. A new text or model draws everything at once.

/** The query position clamped to T tokens (-1 = last). */
function positionIn(T: number): number {
  const p = state.selectedPosition;
  return p < 0 || p >= T ? T - 1 : p;
}

/** The selected query position, clamped to the drawn tokens (-1 = last). */
function queryPosition(): number {
  return positionIn(analysis?.T ?? 0);
}

/**
 * What the predictions view shows: `analysis`, or the AnalysisCore of a
 * newer pass drawn ahead of it, or (newer still) that pass's PredictionsPart.
 * seq: the pass's place in the order of requests (analysisSeq).
 */
let shownCore: { seq: number; core: AnalysisCore } | null = null;
let shownPart: { seq: number; part: PredictionsPart } | null = null;
/** The seq of `analysis`. */
let analysisSeqDrawn = 0;

function drawPredictions(): void {
  const core = shownCore ?? (analysis ? { seq: analysisSeqDrawn, core: analysis } : null);
  const part = shownPart;
  // The part of a newer pass, while the position it holds is the one shown
  // and the drawn tokens are those it ran (checked when it arrived).
  if (part && analysis && (!core || part.seq > core.seq) && positionIn(part.part.T) === part.part.position) {
    const edited = part.part.gains.some((gain) => gain !== 1);
    predictions.render(predictionsOfPart(part.part, analysis.tokens), part.seq, edited);
    return;
  }
  if (!core) return;
  // Ghost bars when the gains of that pass (not the reader's newest ones,
  // which may be on their way to the engine) edit a head. Redraws, and bumps
  // data-revision, only when something it shows changed.
  const edited = core.core.gains.some((gain) => gain !== 1);
  predictions.render(predictionsOf(core.core, positionIn(core.core.T)), core.seq, edited);
}

function drawViews(): void {
  if (!analysis) return;
  const { layer, head } = state.selectedHead;
  const H = analysis.n_head;
  const position = queryPosition();
  tokens.render(analysis, {
    mode: state.colorMode,
    source: state.source,
    layer,
    head,
    position,
    gains: state.gains,
    vocab_size: state.model?.vocab_size ?? 2,
  });
  drawPredictions();
  grid.setSelected(state.selectedHead);
  detail.render(analysis, state.selectedHead, position, state.gains[layer * H + head] ?? 1, state.view);
}

interface Drawing {
  next: Analysis;
  /** The analysis' place in the order of requests (analysisSeq). */
  seq: number;
  /** Lowest layer whose attention changed since the grid was last drawn. */
  fromLayer: number;
  roundTripMs: number;
  /**
   * When the predictions were drawn ahead of the rest (ms after the request),
   * else null. The 'analysis' change was announced then.
   */
  predictionsMs: number | null;
}

function render({ next, seq, fromLayer, roundTripMs, predictionsMs }: Drawing): void {
  writeDueUrl();
  const t0 = performance.now();
  analysis = next;
  analysisSeqDrawn = seq;
  if (shownCore && shownCore.seq <= seq) shownCore = null;
  if (shownPart && shownPart.seq <= seq) shownPart = null;
  grid.render(next, fromLayer);
  grid.setGains(state.gains);
  const gridMs = performance.now() - t0;
  drawViews();
  edits.render(state.gains, next.n_head);
  const paintMs = performance.now() - t0;
  const { tokenize_ms, forward_ms, position_ms, prepared_ms } = next.timing;
  const pass =
    next.rerun_from_layer === 0 && position_ms === null
      ? 'full forward pass'
      : next.rerun_from_layer >= next.n_layer
        ? 'no layer rerun'
        : `rerun from layer ${next.rerun_from_layer}`;
  const muted = countMuted(state);
  const line =
    `${pass}: ${forward_ms.toFixed(1)} ms · ` +
    // A rerun reads no text; its first phase ends with the shown position's predictions.
    (position_ms === null
      ? `tokenize ${tokenize_ms.toFixed(1)} ms · `
      : prepared_ms !== null
        ? `position ${positionIn(next.T)} prepared before the click (${prepared_ms.toFixed(1)} ms) · `
        : `position ${positionIn(next.T)} after ${position_ms.toFixed(1)} ms · `) +
    (predictionsMs === null ? '' : `predictions drawn at ${predictionsMs.toFixed(1)} ms · `) +
    `round trip ${roundTripMs.toFixed(1)} ms · draw ${paintMs.toFixed(1)} ms ` +
    `(grid ${gridMs.toFixed(1)} ms for ${grid.lastRepainted} heads)` +
    (muted > 0 ? ` · ${muted} head${muted === 1 ? '' : 's'} muted` : '');
  // The line goes up with the frame after the one that shows these views:
  // it says the drawing is on screen (bench/web.mjs waits for it before its
  // next click). A newer drawing by then writes its own.
  afterNextPaint(() => {
    if (analysis === next) status.setTiming(line);
  });
  document.documentElement.dataset['ready'] = 'true';
  delete document.documentElement.dataset['stale'];
  if (predictionsMs === null) changes.emit(snapshot(), 'analysis');
  readyResolve?.();
  readyResolve = null;
}

/** An analysis waiting for the frame that shows its predictions to be painted. */
let pendingDrawing: Drawing | null = null;

/** Draws at once (and whatever was waiting: the grid then redraws from the lower layer). */
function drawNow(drawing: Drawing): void {
  if (pendingDrawing) drawing.fromLayer = Math.min(drawing.fromLayer, pendingDrawing.fromLayer);
  pendingDrawing = null;
  render(drawing);
}

/** Draws after the next paint; a newer analysis arriving meanwhile replaces this one. */
function drawAfterPaint(drawing: Drawing): void {
  const waiting = pendingDrawing !== null;
  if (pendingDrawing) drawing.fromLayer = Math.min(drawing.fromLayer, pendingDrawing.fromLayer);
  pendingDrawing = drawing;
  if (waiting) return;
  afterNextPaint(() => {
    const due = pendingDrawing;
    pendingDrawing = null;
    // A model loaded meanwhile: its own analysis is on the way.
    if (due && due.next.model === state.model?.name) render(due);
  });
}

/**
 * Calls back once the next frame is painted: a message posted from
 * requestAnimationFrame is handled after that frame's paint. rAF does not
 * run in a hidden page or a throttled iframe, so a timer stands in there.
 */
function afterNextPaint(callback: () => void): void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    window.clearTimeout(timer);
    callback();
  };
  const timer = window.setTimeout(run, 100);
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      run();
    };
    channel.port2.postMessage(null);
  });
}

/** The attention the page holds; the worker sends only the layers a rerun changed. */
let heldAttention: { version: number; attn: Float32Array } | null = null;

/** The full [L x H x T x T] attention of `core`: the layers sent over the ones held. */
function mergeAttention(part: AttentionPart, core: AnalysisCore): Float32Array {
  const perLayer = core.n_head * core.T * core.T;
  const size = core.n_layer * perLayer;
  let attn = part.attn;
  if (part.from_layer > 0) {
    const held = heldAttention;
    if (!held || held.version !== part.base_version || held.attn.length !== size) {
      heldAttention = null;
      throw new Error(`the engine sent the attention of layers ${part.from_layer} and up, but not the layers below`);
    }
    // In place: the layers below from_layer are those of the previous pass.
    // The analysis drawn now shares this array; it is replaced in a frame.
    attn = held.attn;
    attn.set(part.attn, part.from_layer * perLayer);
  }
  if (attn.length !== size) {
    heldAttention = null;
    throw new Error(`the engine sent ${attn.length} attention values, expected ${size}`);
  }
  heldAttention = { version: part.version, attn };
  return attn;
}

/** True when `pass` read the same tokens with the same model and top-k as the drawn analysis. */
function sameTokensAsDrawn(pass: Pick<AnalysisCore, 'model' | 'T' | 'top_k' | 'ids' | 'gains'>): boolean {
  const drawn = analysis;
  return (
    drawn !== null &&
    drawn.model === pass.model &&
    drawn.gains.length === pass.gains.length &&
    drawn.top_k === pass.top_k &&
    drawn.T === pass.T &&
    drawn.ids.every((id, i) => id === pass.ids[i])
  );
}

let analysisSeq = 0;

// Always analyses the newest text and gains; see LatestRunner.
const runner = new LatestRunner(async () => {
  const model = state.model;
  if (!model) return;
  if (state.text.length === 0) {
    document.documentElement.dataset['stale'] = 'true';
    tokens.clear('Type some text to see its tokens.');
    status.showNotice('The text is empty: type something and the model will read it.');
    writeDueUrl();
    return;
  }
  const seq = ++analysisSeq;
  const t0 = performance.now();
  let predictionsMs: number | null = null;
  const onPredictions = (part: PredictionsPart) => {
    // Only the head gains changed: the bars go up now, the mean loss with
    // the next message, the attention views once that frame is painted.
    if (part.model !== state.model?.name || !sameTokensAsDrawn(part)) return;
    shownPart = { seq, part };
    drawPredictions();
    predictionsMs = performance.now() - t0;
  };
  try {
    const { core, attention } = await client.call(
      'analyze',
      {
        text: state.text,
        gains: state.gains.slice(),
        topK: TOP_K,
        position: state.selectedPosition,
        heldAttention: heldAttention?.version ?? 0,
      },
      undefined,
      [],
      onPredictions,
    );
    // Always merged, in order: the next request's attention builds on it.
    const attn = mergeAttention(attention, core);
    if (core.model !== state.model?.name) return;  // a newer model arrived meanwhile
    if (predictionsMs !== null) {
      // The bars are up: the mean loss (and the figures of getAnalysis) now.
      shownCore = { seq, core };
      drawPredictions();
      changes.emit(snapshot(), 'analysis');
    }
    const next: Analysis = {
      ...core,
      attn,
      timing: { ...core.timing, attention_ms: attention.attention_ms },
    };
    const drawing: Drawing = {
      next,
      seq,
      fromLayer: core.attention_from_layer,
      roundTripMs: performance.now() - t0,
      predictionsMs,
    };
    if (predictionsMs === null) drawNow(drawing);
    else drawAfterPaint(drawing);
    status.clearMessage();
  } catch (error) {
    writeDueUrl();
    status.showError(`Could not run the model on this text: ${messageOf(error)}`);
  }
});

// ---- Head edits computed ahead of their click ----
// When the pointer or the focus comes to a head (or a pointer goes down on
// it), the worker computes the rerun's first phase for the gains a click
// would give (the 'prepare' method); the click's analyze then posts those
// predictions at once. One prepare is in flight at a time and only the
// newest aim is kept; the worker declines gains it cannot prepare (another
// text, the gains it holds). Nothing here changes the state.
let aimedGains: Float32Array | null = null;
let lastAim = '';

function prepareEdit(apply: (ahead: AppState) => void): void {
  if (!state.model || state.text.length === 0) return;
  const ahead: AppState = { ...state, gains: state.gains.slice() };
  apply(ahead);
  // The same aim as the last one, on the same state: already asked for.
  const aim = `${analysisSeqDrawn}:${state.selectedPosition}:${ahead.gains.join()}`;
  if (aim === lastAim) return;
  lastAim = aim;
  aimedGains = ahead.gains;
  preparer.request();
}

const preparer = new LatestRunner(async () => {
  const gains = aimedGains;
  aimedGains = null;
  if (!gains) return;
  try {
    await client.call('prepare', { text: state.text, gains, topK: TOP_K, position: state.selectedPosition });
  } catch {
    // Nothing is lost: the click computes the same predictions itself
    // and reports what goes wrong.
  }
});

// ---- State changes: every one goes through changed() ----

function applyHidden(): void {
  for (const panel of document.querySelectorAll<HTMLElement>('[data-panel]')) {
    panel.hidden = state.hidden.includes(panel.dataset['panel'] as PanelName);
  }
}

let lastWrittenHash = '';

function urlState(): UrlState {
  const url = defaultUrlState();
  url.model = state.model?.name ?? null;
  url.text = state.text;
  if (state.model) Object.assign(url, editsFromGains(state.gains, state.model.n_head));
  else if (pendingEdits) Object.assign(url, pendingEdits);
  url.head = { ...state.selectedHead };
  url.pos = state.selectedPosition;
  url.view = state.view;
  url.color = state.colorMode;
  url.source = state.source;
  url.hide = state.hidden.slice();
  url.embed = state.embed;
  return url;
}

/**
 * A head edit's URL is written once its predictions are drawn (render(), or
 * the run failing): history.replaceState takes a few ms of main thread,
 * which would otherwise run beside the engine's rerun, on the same cores.
 */
let urlWriteDue = false;

function writeUrlLater(): void {
  urlWriteDue = true;
}

function writeDueUrl(): void {
  if (urlWriteDue) writeUrl();
}

/** replaceState, not pushState: edits do not fill the Back button's history. */
function writeUrl(): void {
  urlWriteDue = false;
  const hash = serialiseHash(urlState());
  lastWrittenHash = hash;
  const current = window.location.hash.replace(/^#/, '');
  if (current === hash) return;
  const base = window.location.pathname + window.location.search;
  history.replaceState(history.state, '', hash ? `${base}#${hash}` : base);
}

function changed(reason: ChangeReason): void {
  // The engine starts first: the rest runs while it computes.
  if (reason === 'edits') runner.request();
  if (reason === 'edits') writeUrlLater();
  else writeUrl();
  if (reason === 'hidden') applyHidden();
  if (reason === 'edits') {
    grid.setGains(state.gains);
    if (state.model) edits.render(state.gains, state.model.n_head);
  } else if (reason === 'text') {
    runner.request();
  } else if (reason === 'selection' || reason === 'view') {
    drawViews();
  }
  changes.emit(snapshot(), reason);
}

function edit(apply: () => void): void {
  if (!state.model) return;
  try {
    apply();
  } catch (error) {
    status.showError(messageOf(error));
    return;
  }
  changed('edits');
}

function selectHead(layer: number, head: number): void {
  if (!state.model) return;
  if (!(layer >= 0 && layer < state.model.n_layer && head >= 0 && head < state.model.n_head)) {
    status.showError(`Head ${layer}.${head} is outside this model (${state.model.n_layer} layers × ${state.model.n_head} heads).`);
    return;
  }
  state.selectedHead = { layer, head };
  changed('selection');
}

function selectPosition(position: number): void {
  if (!Number.isInteger(position) || position < -1) return;
  state.selectedPosition = position;
  changed('selection');
}

function setText(text: string, resetPosition: boolean): void {
  state.text = text;
  if (textInput.value !== text) textInput.value = text;
  if (resetPosition) state.selectedPosition = -1;
  document.documentElement.dataset['stale'] = 'true';
  changed('text');
}

let debounce: number | undefined;
textInput.addEventListener('input', () => {
  window.clearTimeout(debounce);
  debounce = window.setTimeout(() => setText(textInput.value, false), TEXT_DEBOUNCE_MS);
});

/** Problems of the link being applied: they add up until dismissed. */
let urlProblems: string[] = [];

function showUrlProblems(problems: string[]): void {
  if (problems.length === 0) return;
  urlProblems.push(...problems);
  element('url-notice-text').textContent =
    `Part of this link was ignored: ${urlProblems.join('; ')}.`;
  urlNotice.hidden = false;
}

function clearUrlProblems(): void {
  urlProblems = [];
  urlNotice.hidden = true;
}
element('url-notice-close').addEventListener('click', clearUrlProblems);

/** Applies a parsed hash; returns the model it names (null = default). */
function applyUrl(url: UrlState): string | null {
  state.text = url.text;
  textInput.value = url.text;
  state.selectedHead = url.head;
  state.selectedPosition = url.pos;
  state.view = url.view;
  state.colorMode = url.color;
  state.source = url.source;
  state.hidden = url.hide;
  state.embed = url.embed || new URLSearchParams(window.location.search).get('embed') === '1';
  pendingEdits = { muted: url.muted, gains: url.gains };
  applyHidden();
  return url.model;
}

/** Turns pendingEdits into gains for the loaded model (notice for heads it lacks). */
function applyPendingEdits(): void {
  if (!state.model || !pendingEdits) return;
  const { gains, problems } = gainsFromEdits(pendingEdits, state.model.n_layer, state.model.n_head);
  pendingEdits = null;
  state.gains = gains;
  showUrlProblems(problems);
}

window.addEventListener('hashchange', () => {
  const hash = window.location.hash.replace(/^#/, '');
  if (hash === lastWrittenHash) return;
  // The reader edited or pasted a link: apply it whole.
  const parsed = parseHash(hash);
  clearUrlProblems();
  showUrlProblems(parsed.problems);
  const model = applyUrl(parsed.state);
  if (model && model !== state.model?.name) {
    void switchModel(model);
    return;
  }
  applyPendingEdits();
  grid.setGains(state.gains);
  changed('url');
  runner.request();
});

// ---- Models ----

async function switchModel(name: string): Promise<void> {
  await loadAndShow(`Loading model ${name}…`, (onProgress) =>
    client.call(
      'loadModel',
      { name, baseUrl: new URL(`${name}/`, modelsBaseUrl()).href },
      (progress) => onProgress('Downloading', progress),
    ),
  );
}

/** Opens the reader's own model files (engine/open-local.ts checks them first). */
async function openLocalFiles(files: File[]): Promise<void> {
  const loaded = await loadAndShow('Opening your model…', async (onProgress) => {
    const opened = await openLocalModel(client, files, (progress) => onProgress('Reading', progress));
    return opened.model;
  });
  if (loaded) picker.showLocal(loaded, files);
}

/** Loads a model; on failure the previous one stays, with the error shown. */
async function loadAndShow(
  summary: string,
  load: (onProgress: (stage: string, progress: Progress) => void) => Promise<LoadedModel>,
): Promise<LoadedModel | null> {
  picker.setBusy(true);
  status.setSummary(summary);
  try {
    const loaded = await load((stage, progress) => status.showProgress(stage, progress));
    const fromUrl = pendingEdits !== null;
    const lostHead = setModel(state, loaded);
    if (lostHead && fromUrl) {
      showUrlProblems([`head ${lostHead} is outside this model (${loaded.n_layer} layers × ${loaded.n_head} heads): showing head 0.0`]);
    }
    applyPendingEdits();
    grid.setShape(loaded.n_layer, loaded.n_head);
    grid.setGains(state.gains);
    edits.render(state.gains, loaded.n_head);
    picker.show(loaded.name);
    status.setSummary(describeModel(loaded));
    status.clearMessage();
    changed('model');
    runner.request();
    return loaded;
  } catch (error) {
    // The worker keeps the previous model: say what went wrong and carry on with it.
    status.showError(messageOf(error));
    picker.show(state.model?.name ?? null);
    status.setSummary(state.model ? describeModel(state.model) : 'No model loaded.');
    return null;
  } finally {
    status.hideProgress();
    picker.setBusy(false);
  }
}

// ---- The app API (state/app-api.ts) ----

function snapshot(): AppSnapshot {
  const url = urlState();
  return {
    model: state.model?.name ?? null,
    n_layer: state.model?.n_layer ?? 0,
    n_head: state.model?.n_head ?? 0,
    text: state.text,
    edits: [...url.muted.map((h) => ({ ...h, gain: 0 })), ...url.gains].sort(
      (a, b) => a.layer - b.layer || a.head - b.head,
    ),
    selectedHead: { ...state.selectedHead },
    selectedPosition: state.selectedPosition,
    view: state.view,
    colorMode: state.colorMode,
    hidden: state.hidden.slice(),
    embed: state.embed,
  };
}

/**
 * The figures of the analysis the predictions show (it may be ahead of the
 * grid by a frame; the bars of a newer pass may be up a moment before it).
 */
function summary(): AnalysisSummary | null {
  const shown = shownCore?.core ?? analysis;
  if (!shown) return null;
  const t = positionIn(shown.T);
  const K = shown.top_k;
  return {
    model: shown.model,
    T: shown.T,
    tokens: shown.tokens.slice(),
    mean_loss: shown.mean_loss,
    baseline_mean_loss: shown.baseline.mean_loss,
    top_k: Array.from({ length: K }, (_, i) => ({
      token: shown.top_k_tokens[t * K + i] ?? '',
      id: shown.top_k_ids[t * K + i]!,
      prob: shown.top_k_probs[t * K + i]!,
    })),
  };
}

function isHead(ref: HeadRef): boolean {
  return Number.isInteger(ref.layer) && Number.isInteger(ref.head) && ref.layer >= 0 && ref.head >= 0;
}

const app: HeadlightApp = {
  getState: snapshot,
  getAnalysis: summary,
  setText: (text) => setText(String(text), true),
  setEdits(list) {
    const valid = list.filter((e) => isHead(e) && e.gain >= 0 && e.gain <= MAX_GAIN);
    const muted = valid.filter((e) => e.gain === 0).map(({ layer, head }) => ({ layer, head }));
    const gains = valid.filter((e) => e.gain !== 0 && e.gain !== 1);
    const problems = list.length !== valid.length ? [`${list.length - valid.length} edit(s) with a bad head or a gain outside 0..${MAX_GAIN}`] : [];
    if (!state.model) {
      pendingEdits = { muted, gains };
      showUrlProblems(problems);
      writeUrl();
      return;
    }
    const applied = gainsFromEdits({ muted, gains }, state.model.n_layer, state.model.n_head);
    showUrlProblems([...problems, ...applied.problems]);
    edit(() => {
      state.gains = applied.gains;
      state.beforeSolo = null;
    });
  },
  setGain: (layer, head, gain) => edit(() => setGain(state, layer, head, gain)),
  setMuted: (heads) => app.setEdits(heads.map((h) => ({ layer: h.layer, head: h.head, gain: 0 }))),
  resetEdits: () => edit(() => resetGains(state)),
  selectHead,
  selectPosition,
  setView(view) {
    if (view !== 'heatmap' && view !== 'lines') return;
    state.view = view;
    changed('view');
  },
  setColorMode(mode) {
    if (mode !== 'loss' && mode !== 'attention') return;
    state.colorMode = mode;
    changed('view');
  },
  setHidden(panels) {
    state.hidden = PANELS.filter((p) => panels.includes(p));
    changed('hidden');
  },
  setModel: (name) => switchModel(name),
  onChange: (listener) => changes.on(listener),
  ready: () => readyPromise,
};
// The hash is read before the embed code asks for the state.
const initialUrl = parseHash(window.location.hash);
showUrlProblems(initialUrl.problems);
const wantedModel = applyUrl(initialUrl.state);

provideApp(app);
// Embed mode, "Copy embed code", postMessage API (src/embed/).
installEmbedding(app);

// ---- Start ----

async function start(): Promise<void> {
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
  let first = index.models.find((m) => m.name === (wantedModel ?? index.default));
  if (!first) {
    if (wantedModel) showUrlProblems([`model "${wantedModel}" is not served here: showing ${index.default}`]);
    first = index.models.find((m) => m.name === index.default) ?? index.models[0]!;
  }
  picker.show(first.name);
  await switchModel(first.name);
}

void start();
