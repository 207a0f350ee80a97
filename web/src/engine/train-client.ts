/**
 * The page's side of the training worker (train-worker.ts): started on first
 * use (the explorer never loads the trainer), commands out, events to one
 * listener, and the trained model's files as a promise.
 */
import type { TrainChoices, TrainCommand, TrainEvent, TrainedFiles } from './train-protocol';

export class TrainClient {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextFilesId = 1;
  private readonly waitingFiles = new Map<number, { resolve: (f: TrainedFiles) => void; reject: (e: Error) => void }>();

  /** listener: every event of the worker but 'files' (answered through files()). */
  constructor(private readonly listener: (event: TrainEvent) => void) {}

  /** Starts the worker and loads the trainer and its kit once; rejects with the reason it could not. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { name: 'headlight-train' });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.addEventListener('message', (message: MessageEvent<TrainEvent>) => {
        const event = message.data;
        if (event.kind === 'ready') resolve();
        if (event.kind === 'error' && event.id === undefined) reject(new Error(event.message));
        if (event.kind === 'files' || (event.kind === 'error' && event.id !== undefined)) {
          const waiting = this.waitingFiles.get(event.id!);
          this.waitingFiles.delete(event.id!);
          if (event.kind === 'files') waiting?.resolve(event.files);
          else if (event.kind === 'error') waiting?.reject(new Error(event.message));
          return;
        }
        this.listener(event);
      });
      worker.addEventListener('error', (event: ErrorEvent) => {
        event.preventDefault();
        const message = `training worker failed: ${event.message || 'could not start'}`;
        reject(new Error(message));
        this.listener({ kind: 'error', message });
      });
    });
    this.send({
      kind: 'init',
      scriptUrl: new URL('wasm/headlight-train.js', document.baseURI).href,
      wasmUrl: new URL('wasm/headlight-train.wasm', document.baseURI).href,
      kitUrl: new URL('train/', document.baseURI).href,
    });
    return this.ready;
  }

  train(choices: TrainChoices): void {
    this.send({ kind: 'start', choices });
  }

  pause(): void {
    this.send({ kind: 'pause' });
  }

  resume(): void {
    this.send({ kind: 'resume' });
  }

  /** A new peak learning rate for the run, from its next chunk on. */
  setLearningRate(lr: number): void {
    this.send({ kind: 'settings', lr });
  }

  reset(): void {
    this.send({ kind: 'reset' });
  }

  /** The trained model's four files as they are now. */
  files(): Promise<TrainedFiles> {
    const id = this.nextFilesId++;
    return new Promise<TrainedFiles>((resolve, reject) => {
      this.waitingFiles.set(id, { resolve, reject });
      this.send({ kind: 'files', id });
    });
  }

  private send(command: TrainCommand): void {
    this.worker?.postMessage(command);
  }
}
