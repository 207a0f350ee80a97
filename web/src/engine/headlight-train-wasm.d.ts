/**
 * The Embind surface of build/wasm/headlight-train.js
 * (wasm/bindings/train_embind.cpp, over wasm/core/live_training.h). Every
 * method returns a plain object; failures come back as
 * `{ ok: false, error }`. Typed arrays are JS-owned copies.
 * Shapes: L = n_layer, H = n_head, T = tokens of the probe sequence.
 */
import type { Fail, HeadlightModuleOptions } from './headlight-wasm';

export interface TrainingCreated {
  ok: true;
  n_layer: number;
  n_head: number;
  n_embd: number;
  n_positions: number;
  vocab_size: number;
  n_params: number;
  /** Steps of the schedule (the cosine ends there; training stops there). */
  total_steps: number;
  flops_per_step: number;
  /** The `headlight train` flags that train the same run step for step. */
  train_flags: string;
}

export interface TrainingSteps {
  ok: true;
  losses: Float32Array; // [steps run] mean loss of each step, nats/token
  steps_done: number;
  total_steps: number;
}

export interface TrainingProbe {
  ok: true;
  induction: Float32Array;   // [L x H] on the repeated random-token probe
  prev_token: Float32Array;  // [L x H]
  first_token: Float32Array; // [L x H]
  loss_first_half: number;
  loss_second_half: number;
  /** loss_second_half - loss_first_half: negative = the model copies from context. */
  icl_score: number;
  T: number;
  ids: Int32Array;    // [T] probe sequence 0: n random tokens, then the same n again
  attn: Float32Array; // [L x H x T x T] every head's attention on it
  steps_done: number;
}

export interface TrainingFiles {
  ok: true;
  config_json: string;
  safetensors: Uint8Array; // F32
  steps_done: number;
}

export interface JsTraining {
  create(
    nLayer: number,
    nHead: number,
    nEmbd: number,
    task: string,
    /** 'short' or 'long' (core/live_training.h LiveChoices::schedule). */
    schedule: string,
    lr: number,
    seed: number,
    vocabJson: string,
    mergesTxt: string,
    text: string,
  ): TrainingCreated | Fail;
  step(n: number): TrainingSteps | Fail;
  probe(): TrainingProbe | Fail;
  /** The peak learning rate from the next step on (the schedule's shape stays). */
  setLearningRate(lr: number): { ok: true } | Fail;
  files(): TrainingFiles | Fail;
  delete(): void;
}

export interface HeadlightTrainModule {
  Training: new () => JsTraining;
}

export type CreateHeadlightTrain = (options?: HeadlightModuleOptions) => Promise<HeadlightTrainModule>;
