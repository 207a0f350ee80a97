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
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    // A classic worker (see vite.config.ts `worker.format`): Vite bundles it
    // to its own file under assets/.
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { name: 'headlight-engine' });
    this.worker.addEventListener('message', (event: MessageEvent<ResponseMessage>) =>
      this.receive(event.data),
    );
    // A worker that fails to start or throws outside a request rejects everything waiting.
    this.worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      this.failAll(new Error(`engine worker failed: ${event.message || 'could not start'}`));
    });
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
