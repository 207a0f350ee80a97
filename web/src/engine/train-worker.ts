/**
 * The training worker: runs the live trainer (build/wasm/headlight-train.js,
 * wasm/core/live_training.h) in chunks of steps, so that between two chunks
 * it reads the page's commands (pause, resume, reset, a new run) and posts
 * what the chunk did. A chunk is sized to take about CHUNK_MS and is one
 * step at least, so the page gets new figures more than 10 times a second in
 * a short run, and once a step in the long run (about 3 times a second in
 * Chromium at 2 x 8, d 128); the probe (scores and attention) runs every
 * PROBE_MS, after the chunk that passes it.
 *
 * A classic worker, like worker.ts: the module is a MODULARIZE'd script
 * loaded with importScripts (the page's CSP forbids eval).
 */
import { unwrap } from './engine-calls';
import { fetchBytes, fetchText } from './fetch-bytes';
import type { HeadlightModuleOptions } from './headlight-wasm';
import type { CreateHeadlightTrain, HeadlightTrainModule, JsTraining } from './headlight-train-wasm';
import type { TrainChoices, TrainCommand, TrainEvent } from './train-protocol';

interface TrainWorkerScope {
  importScripts(...urls: string[]): void;
  postMessage(message: TrainEvent, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<TrainCommand>) => void): void;
  createHeadlightTrain?: (options?: HeadlightModuleOptions) => ReturnType<CreateHeadlightTrain>;
}
const scope = self as unknown as TrainWorkerScope;

const CHUNK_MS = 30;
const PROBE_MS = 250;
const MAX_CHUNK_STEPS = 64;

/** Everything the worker holds. */
const state: {
  module: HeadlightTrainModule | null;
  /** The training kit: tokenizer files and the corpus sample. */
  kit: { vocabJson: string; mergesTxt: string; text: string } | null;
  training: JsTraining | null;
  /** Number of the current run (events of older runs are dropped by the page). */
  run: number;
  playing: boolean;
  /** Steps per chunk, adapted to the measured step time. */
  chunk: number;
  lastProbeMs: number;
  /** The pending tick, so that pause + resume never runs two loops. */
  tick: ReturnType<typeof setTimeout> | undefined;
  /** Commands run in order: init awaits downloads. */
  queue: Promise<void>;
} = {
  module: null,
  kit: null,
  training: null,
  run: 0,
  playing: false,
  chunk: 1,
  lastProbeMs: 0,
  tick: undefined,
  queue: Promise.resolve(),
};

function post(event: TrainEvent, transfer: Transferable[] = []): void {
  scope.postMessage(event, transfer);
}

// The kit and the module are small: no download progress to show.
const noProgress = (): void => {};


async function init(scriptUrl: string, wasmUrl: string, kitUrl: string): Promise<void> {
  if (!state.module) {
    const wasmBinary = await fetchBytes(wasmUrl, 'trainer (headlight-train.wasm)', noProgress);
    scope.importScripts(scriptUrl);
    const create = scope.createHeadlightTrain;
    if (typeof create !== 'function') throw new Error(`${scriptUrl} did not define createHeadlightTrain`);
    state.module = await create({ wasmBinary, locateFile: (path) => new URL(path, wasmUrl).href });
  }
  if (!state.kit) {
    const file = (name: string) => fetchText(new URL(name, kitUrl).href, name, noProgress);
    const [vocabJson, mergesTxt, text] = await Promise.all([file('vocab.json'), file('merges.txt'), file('sample.txt')]);
    state.kit = { vocabJson, mergesTxt, text };
  }
  post({ kind: 'ready', sample_bytes: state.kit.text.length });
}

function dropRun(): void {
  clearTimeout(state.tick);
  state.tick = undefined;
  state.playing = false;
  state.training?.delete();
  state.training = null;
}

function start(choices: TrainChoices): void {
  const { module, kit } = state;
  if (!module || !kit) throw new Error('the trainer is not loaded yet');
  dropRun();
  state.run += 1;
  const training = new module.Training();
  const created = training.create(
    choices.n_layer,
    choices.n_head,
    choices.n_embd,
    choices.task,
    choices.schedule,
    choices.lr,
    choices.seed,
    kit.vocabJson,
    kit.mergesTxt,
    kit.text,
  );
  if (!created.ok) {
    training.delete();
    throw new Error(created.error);
  }
  state.training = training;
  state.chunk = 1;
  const { ok: _ok, ...info } = created;
  post({ kind: 'created', run: state.run, info });
  probe();
  play(true);
}

function play(on: boolean): void {
  clearTimeout(state.tick);
  state.tick = undefined;
  const training = state.training;
  if (!training) return;
  state.playing = on;
  if (on) state.tick = setTimeout(tick, 0);
  post({ kind: 'state', run: state.run, playing: on, finished: false });
}

function probe(): void {
  const training = state.training!;
  const { ok: _ok, ...probe } = unwrap(training.probe());
  state.lastProbeMs = performance.now();
  post({ kind: 'probe', run: state.run, probe }, [probe.attn.buffer, probe.induction.buffer, probe.prev_token.buffer]);
}

/** One chunk of steps, then the figures; the next chunk after any command that arrived meanwhile. */
function tick(): void {
  state.tick = undefined;
  const training = state.training;
  if (!training || !state.playing) return;
  try {
    const t0 = performance.now();
    const done = unwrap(training.step(state.chunk));
    const ms = performance.now() - t0;
    const n = done.losses.length;
    // Next chunk: about CHUNK_MS of steps at the speed just measured.
    const perStep = n > 0 ? ms / n : CHUNK_MS;
    state.chunk = Math.max(1, Math.min(MAX_CHUNK_STEPS, Math.round(CHUNK_MS / Math.max(perStep, 0.01))));
    post(
      {
        kind: 'steps',
        run: state.run,
        losses: done.losses,
        steps_done: done.steps_done,
        total_steps: done.total_steps,
        steps_per_s: n > 0 && ms > 0 ? (1000 * n) / ms : 0,
      },
      [done.losses.buffer],
    );
    const finished = done.steps_done >= done.total_steps;
    if (finished || performance.now() - state.lastProbeMs >= PROBE_MS) probe();
    if (finished) {
      state.playing = false;
      post({ kind: 'state', run: state.run, playing: false, finished: true });
      return;
    }
    state.tick = setTimeout(tick, 0);
  } catch (error) {
    state.playing = false;
    post({ kind: 'state', run: state.run, playing: false, finished: false });
    post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

function files(id: number): void {
  const training = state.training;
  const kit = state.kit;
  if (!training || !kit) throw new Error('there is no trained model yet: press Train first');
  const made = unwrap(training.files());
  post(
    {
      kind: 'files',
      id,
      files: {
        config_json: made.config_json,
        safetensors: made.safetensors,
        vocab_json: kit.vocabJson,
        merges_txt: kit.mergesTxt,
        steps_done: made.steps_done,
      },
    },
    [made.safetensors.buffer],
  );
}

function handle(command: TrainCommand): Promise<void> | void {
  switch (command.kind) {
    case 'init':
      return init(command.scriptUrl, command.wasmUrl, command.kitUrl);
    case 'start':
      return start(command.choices);
    case 'pause':
      return play(false);
    case 'resume':
      return play(true);
    case 'settings':
      // Between two chunks, like every command: the next chunk steps at this rate.
      if (state.training) unwrap(state.training.setLearningRate(command.lr));
      return;
    case 'reset':
      dropRun();
      state.run += 1;
      return;
    case 'files':
      return files(command.id);
  }
}

scope.addEventListener('message', (event) => {
  const command = event.data;
  state.queue = state.queue.then(async () => {
    try {
      await handle(command);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      post(command.kind === 'files' ? { kind: 'error', message, id: command.id } : { kind: 'error', message });
    }
  });
});
