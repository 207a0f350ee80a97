/**
 * The loaded model's copying scores on the page (docs/heads.md "Copying"):
 * those the load step computed, or, for a model too large for that (the
 * GPT-2-small shape: seconds of work), the ones the worker computes after
 * the model is shown, a part at a time (engine/copying-parts.ts). The store
 * asks for one part, and for the next only when it arrives and the page's
 * own requests of that moment have gone first (a macrotask later), so a
 * head edit waits at most one part (~80 ms) in the worker. Loading another
 * model (or the same one again, after an engine restart) starts over; the
 * parts of the old one are dropped. The head grid and its hover card
 * subscribe (views/head-grid.ts).
 */
import type { EngineClient } from '../engine/client';
import type { LoadedModel } from '../engine/protocol';
import { afterPageTasks } from './page-tasks';

/** What the page knows of the loaded model's copying scores. */
export type CopyingStatus =
  | { kind: 'none' }
  /** fraction: of the multiply-adds, 0..1; parts: engine parts done and in all. */
  | { kind: 'computing'; fraction: number; partsDone: number; partsTotal: number }
  | { kind: 'ready'; scores: Float32Array }  // [L x H]
  | { kind: 'failed'; error: string };

export class CopyingStore {
  /** The model the status is of, and the status. */
  private current: { model: string; status: CopyingStatus } = { model: '', status: { kind: 'none' } };
  /** Bumped by every model load: a loop whose number is old stops. */
  private run = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly client: Pick<EngineClient, 'call'>) {}

  subscribe(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** The status of `model`'s scores ('none' for a model that is not the loaded one). */
  statusOf(model: string): CopyingStatus {
    return this.current.model === model ? this.current.status : { kind: 'none' };
  }

  /** A model is loaded: its scores as the load step gave them, or a run of parts in the worker. */
  modelLoaded(model: LoadedModel): void {
    const run = ++this.run;
    if (model.copying) {
      this.set(model.name, { kind: 'ready', scores: model.copying });
      return;
    }
    this.set(model.name, { kind: 'computing', fraction: 0, partsDone: 0, partsTotal: 0 });
    void this.computeParts(run, model.name);
  }

  private async computeParts(run: number, model: string): Promise<void> {
    for (;;) {
      await afterPageTasks();
      if (run !== this.run) return;
      let part;
      try {
        part = await this.client.call('copyingPart', { model });
      } catch (error) {
        // A restarted engine rejects what waited; the reload starts a new run.
        if (run === this.run) this.set(model, { kind: 'failed', error: error instanceof Error ? error.message : String(error) });
        return;
      }
      if (run !== this.run || part.cancelled) return;
      if (part.done && part.copying) {
        this.set(model, { kind: 'ready', scores: part.copying });
        return;
      }
      const fraction = part.work_total > 0 ? part.work_done / part.work_total : 0;
      this.set(model, { kind: 'computing', fraction, partsDone: part.parts_done, partsTotal: part.parts_total });
    }
  }

  private set(model: string, status: CopyingStatus): void {
    this.current = { model, status };
    for (const listener of this.listeners) listener();
  }
}
