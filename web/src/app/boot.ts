/**
 * Boot: builds the page (controller, controls, app API, embedding), reads
 * the link, starts the engine worker and loads the first model. The data
 * flow from here on: a change of the reader's choices -> PageController ->
 * AnalysisStore (engine, frames) -> ViewSet (every view draws the frame).
 */
import '../style.css';
import { installEmbedding } from '../embed/page';
import { checkpointOf } from '../engine/checkpoint-names';
import { EngineClient } from '../engine/client';
import { fetchModelIndex } from '../engine/model-index';
import { parseHash } from '../state/url-state';
import { drawColorbar } from '../views/heatmap';
import { ModelPicker } from '../views/model-picker';
import { StatusView } from '../views/status';
import { provideApp } from './app-api';
import { installRecovery } from './engine-recovery';
import { ModelLoader } from './model-loader';
import { messageOf, PageController } from './page-controller';
import { createApp } from './public-app';

const TEXT_DEBOUNCE_MS = 150;

function element<T extends HTMLElement>(role: string): T {
  const found = document.querySelector<T>(`[data-role="${role}"]`);
  if (!found) throw new Error(`index.html lacks the element data-role="${role}"`);
  return found;
}

/** Starts the wasm module in the worker; false (the error shown) if it did not start. */
async function initEngine(client: EngineClient, status: StatusView): Promise<boolean> {
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
    return false;
  }
  return true;
}

async function start(client: EngineClient, page: PageController, models: ModelLoader, picker: ModelPicker, status: StatusView, wantedModel: string | null): Promise<void> {
  if (!(await initEngine(client, status))) return;
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
  // A link to a training checkpoint (engine/checkpoint-names.ts) of a served
  // model that has a timeline: that checkpoint, or the model if it is gone.
  const checkpoint = wantedModel ? checkpointOf(wantedModel) : null;
  const timelineModel = checkpoint && index.models.find((m) => m.name === checkpoint.model && m.timeline === true);
  if (wantedModel && timelineModel) {
    picker.show(timelineModel.name);
    if ((await models.switchModel(wantedModel)) === null) return;
    wantedModel = timelineModel.name;
  }
  let first = index.models.find((m) => m.name === (wantedModel ?? index.default));
  if (!first) {
    if (wantedModel) page.urlSync.showProblems([`model "${wantedModel}" is not served here: showing ${index.default}`]);
    first = index.models.find((m) => m.name === index.default) ?? index.models[0]!;
  }
  picker.show(first.name);
  await models.switchModel(first.name);
}

export function boot(): void {
  const client = new EngineClient();
  const status = new StatusView(document.body, element('message'));
  const textInput = element<HTMLTextAreaElement>('text-input');
  const notice = { box: element('url-notice'), text: element('url-notice-text') };
  const page = new PageController(client, status, textInput, notice);
  const picker = new ModelPicker(
    element<HTMLSelectElement>('model-picker'),
    (name) => void models.switchModel(name),
    (files) => void models.openLocalFiles(files),
  );
  const models = new ModelLoader(client, page, picker, status);
  page.modelSwitcher = (name, report) => models.switchModel(name, report);
  page.modelOpener = (files) => models.openLocalFiles(files);
  installRecovery(client, status, async () => {
    if (!(await initEngine(client, status))) return 'the engine did not start';
    // The edits as the URL holds them (a reload resets them to the link's).
    page.applyUrl(parseHash(window.location.hash).state);
    return models.reload();
  });
  drawColorbar(element<HTMLCanvasElement>('colorbar'));

  const typing: { timer: number | undefined } = { timer: undefined };
  textInput.addEventListener('input', () => {
    window.clearTimeout(typing.timer);
    typing.timer = window.setTimeout(() => page.setText(textInput.value, false), TEXT_DEBOUNCE_MS);
  });
  element('url-notice-close').addEventListener('click', () => page.urlSync.clearProblems());
  window.addEventListener('hashchange', () => {
    if (page.urlSync.isOwn(window.location.hash)) return;
    const parsed = parseHash(window.location.hash.replace(/^#/, ''));
    const model = page.applyEditedUrl(parsed.state, parsed.problems);
    if (model) void models.switchModel(model);
  });

  // The hash is read before the embed code asks for the state.
  const initialUrl = parseHash(window.location.hash);
  page.urlSync.showProblems(initialUrl.problems);
  const wantedModel = page.applyUrl(initialUrl.state);

  const app = createApp(page, models);
  provideApp(app);
  // Embed mode, "Copy embed code", postMessage API (src/embed/).
  installEmbedding(app);
  void start(client, page, models, picker, status, wantedModel);
}
