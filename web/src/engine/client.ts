/**
 * Typed RPC to the engine worker: one promise per request, matched by id.
 * The worker answers requests in the order it receives them. A method may
 * send a part of its answer before the result ('partial', see
 * Methods.analyze): onPartial gets it at once.
 */
import type {
  Method,
  Methods,
  PartialOf,
  Progress,
  RequestMessage,
  ResponseMessage,
} from './protocol';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  onProgress: ((progress: Progress) => void) | undefined;
  onPartial: ((partial: never) => void) | undefined;
}

export class EngineClient {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /**
   * Called once when the worker dies (an uncaught error) or its wasm module
   * aborts or traps (a 'fatal' error answer): every request waiting has been
   * rejected; the owner calls restart() and loads its model again (boot.ts).
   */
  onFatal: ((reason: string) => void) | null = null;

  constructor() {
    this.worker = this.spawn();
  }

  /** A new worker in place of the current one; requests still waiting are rejected. */
  restart(): void {
    this.worker.terminate();
    this.failAll(new Error('the engine was restarted'));
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    // A classic worker (see vite.config.ts `worker.format`): Vite bundles it
    // to its own file under assets/.
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { name: 'headlight-engine' });
    worker.addEventListener('message', (event: MessageEvent<ResponseMessage>) => {
      if (worker === this.worker) this.receive(event.data);
    });
    // A worker that fails to start or throws outside a request rejects everything waiting.
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      if (worker !== this.worker) return;
      const reason = `engine worker failed: ${event.message || 'could not start'}`;
      this.failAll(new Error(reason));
      this.onFatal?.(reason);
    });
    return worker;
  }

  call<M extends Method>(
    method: M,
    params: Methods[M]['params'],
    onProgress?: (progress: Progress) => void,
    transfer: Transferable[] = [],
    onPartial?: (partial: PartialOf<M>) => void,
  ): Promise<Methods[M]['result']> {
    const id = this.nextId++;
    return new Promise<Methods[M]['result']>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (result: unknown) => void,
        reject,
        onProgress,
        onPartial: onPartial as ((partial: never) => void) | undefined,
      });
      const message = { id, method, params } as RequestMessage;
      this.worker.postMessage(message, transfer);
    });
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new Error('engine worker stopped'));
  }

  private receive(message: ResponseMessage): void {
    if (message.kind === 'error' && message.fatal) {
      this.failAll(new Error(`the engine stopped: ${message.error}`));
      this.onFatal?.(message.error);
      return;
    }
    const request = this.pending.get(message.id);
    if (!request) return;
    switch (message.kind) {
      case 'progress':
        request.onProgress?.(message.progress);
        break;
      case 'partial':
        request.onPartial?.(message.partial as never);
        break;
      case 'result':
        this.pending.delete(message.id);
        request.resolve(message.result);
        break;
      case 'error':
        this.pending.delete(message.id);
        request.reject(new Error(message.error));
        break;
    }
  }

  private failAll(error: Error): void {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }
}
