/**
 * Messages between the page and the training worker (train-worker.ts). The
 * page sends commands; the worker answers with a stream of events (steps,
 * probes, state), not one reply per command, because a running training
 * reports on its own. Every event of a run carries its run number, so the
 * page drops what an older run sent after a reset.
 */
import type { TrainingCreated, TrainingProbe } from './headlight-train-wasm';

/** What the reader chose for a run (core/live_training.h LiveChoices). */
export interface TrainChoices {
  n_layer: number;
  n_head: number;
  n_embd: number;
  /** 'repeat': repeated random tokens; 'text': the warm-up, then the shipped corpus sample. */
  task: 'repeat' | 'text';
  /** 'short': a few minutes of steps of 512 tokens; 'long': attn-only-2l's warm-up, steps of 2,048 tokens. */
  schedule: 'short' | 'long';
  lr: number;
  seed: number;
}

/** The four files of a model folder (DESIGN.md), as the trained model is now. */
export interface TrainedFiles {
  config_json: string;
  safetensors: Uint8Array;
  vocab_json: string;
  merges_txt: string;
  steps_done: number;
}

export type TrainCommand =
  /** Loads the module and the training kit (web/public/train/: sample.txt, vocab.json, merges.txt). */
  | { kind: 'init'; scriptUrl: string; wasmUrl: string; kitUrl: string }
  /** A new run with these choices (replacing any), playing at once. */
  | { kind: 'start'; choices: TrainChoices }
  | { kind: 'pause' }
  | { kind: 'resume' }
  /** A new peak learning rate for the run, from its next chunk on. */
  | { kind: 'settings'; lr: number }
  /** Drops the run; the next 'start' begins again from step 0. */
  | { kind: 'reset' }
  /** The model's files now (answered with 'files' carrying the same id). */
  | { kind: 'files'; id: number };

export type TrainCreated = Omit<TrainingCreated, 'ok'>;
export type TrainProbe = Omit<TrainingProbe, 'ok'>;

export type TrainEvent =
  | { kind: 'ready'; sample_bytes: number }
  | { kind: 'created'; run: number; info: TrainCreated }
  /** The losses of the steps run since the last 'steps' event, and the speed over them. */
  | { kind: 'steps'; run: number; losses: Float32Array; steps_done: number; total_steps: number; steps_per_s: number }
  | { kind: 'probe'; run: number; probe: TrainProbe }
  /** playing: steps are being run; finished: the schedule's last step is done. */
  | { kind: 'state'; run: number; playing: boolean; finished: boolean }
  | { kind: 'files'; id: number; files: TrainedFiles }
  /** id: the 'files' command that failed; none: the run (or init) failed and stopped. */
  | { kind: 'error'; message: string; id?: number };
