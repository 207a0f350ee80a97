/**
 * The app API (app/app-api.ts) over the page controller: what the embed
 * code, the postMessage bridge and host pages call. Inputs are checked here;
 * a bad one is ignored or named in the link notice, never thrown.
 */
import { resetGains, setGain } from '../state/app-state';
import { type HeadRef, MAX_GAIN, splitEdits } from '../state/heads';
import { gainsFromEdits, isModelName, PANELS, quote } from '../state/url-state';
import type { HeadlightApp } from './app-api';
import type { ModelLoader } from './model-loader';
import type { PageController } from './page-controller';

function isHead(ref: HeadRef): boolean {
  return Number.isInteger(ref.layer) && Number.isInteger(ref.head) && ref.layer >= 0 && ref.head >= 0;
}

export function createApp(page: PageController, models: ModelLoader): HeadlightApp {
  const { state, urlSync } = page;
  const app: HeadlightApp = {
    getState: () => page.snapshot(),
    getAnalysis: () => page.store.summary(),
    setText: (text) => page.setText(String(text), true),
    setEdits(list) {
      const valid = list.filter((e) => isHead(e) && e.gain >= 0 && e.gain <= MAX_GAIN);
      const split = splitEdits(valid);
      const problems = list.length !== valid.length ? [`${list.length - valid.length} edit(s) with a bad head or a gain outside 0..${MAX_GAIN}`] : [];
      if (!state.model) {
        urlSync.pendingEdits = split;
        urlSync.showProblems(problems);
        urlSync.write();
        return;
      }
      const applied = gainsFromEdits(split, state.model.n_layer, state.model.n_head);
      urlSync.showProblems([...problems, ...applied.problems]);
      page.edit(() => {
        state.gains = applied.gains;
        state.beforeSolo = null;
      });
    },
    setGain: (layer, head, gain) => page.edit(() => setGain(state, layer, head, gain)),
    setMuted: (heads) => app.setEdits(heads.map((h) => ({ layer: h.layer, head: h.head, gain: 0 }))),
    resetEdits: () => page.edit(() => resetGains(state)),
    selectHead: (layer, head) => page.selectHead(layer, head),
    selectPosition: (position) => page.selectPosition(position),
    setView(view) {
      if (view === 'heatmap' || view === 'lines') page.setDisplay('view', view);
    },
    setColorMode(mode) {
      if (mode === 'loss' || mode === 'attention') page.setDisplay('colorMode', mode);
    },
    setSource(source) {
      if (source === 'head' || source === 'mean') page.setDisplay('source', source);
    },
    setHidden: (panels) => page.setHidden(PANELS.filter((p) => panels.includes(p))),
    async setModel(name) {
      // '..' or a '/' would reach outside models/ (the site root's config.json).
      if (!isModelName(name)) throw new Error(`${quote(String(name))} is not a model name`);
      const error = await models.switchModel(name);
      if (error === null) return;
      // The worker's messages name the model already; others (a fetch) get its name.
      throw new Error(error.includes(`"${name}"`) ? error : `model ${quote(name)} could not be loaded: ${error}`);
    },
    onChange: (listener) => page.changes.on(listener),
    ready: () => page.store.ready(),
  };
  return app;
}
