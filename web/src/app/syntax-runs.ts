/**
 * The syntax probe of the loaded model as the page asks for it: a part at a
 * time (the worker's syntaxPart, engine/syntax-parts.ts, ~80 ms a request),
 * the next asked for only when one arrives and the page's own requests of
 * that moment have gone first (a macrotask later, as the copying scores'
 * parts: app/copying-store.ts), so an edit or a hover made meanwhile waits at
 * most one part in the worker. Probing another model (a model switch) stops
 * the run before it; so does stop(). The Syntax view (views/syntax.ts) owns
 * one and shows the progress.
 */
import type { EngineClient } from '../engine/client';
import type { SyntaxProbe } from '../engine/protocol';
import { afterPageTasks } from './page-tasks';

export class SyntaxRuns {
  /** Bumped by every probe() and stop(): a loop whose number is old stops. */
  private run = 0;

  constructor(private readonly client: Pick<EngineClient, 'call'>) {}

  /**
   * `model`'s probe on the probe file at probeUrl, part after part;
   * onProgress(fraction of the work, 0..1) after each part that did not
   * finish it. Resolves with the probe, or null when the run was stopped
   * (another probe(), stop()) or the worker holds another model now.
   */
  async probe(model: string, probeUrl: string, onProgress: (fraction: number) => void): Promise<SyntaxProbe | null> {
    const run = ++this.run;
    for (;;) {
      await afterPageTasks();
      if (run !== this.run) return null;
      const part = await this.client.call('syntaxPart', { model, probeUrl });
      if (run !== this.run || part.cancelled) return null;
      if (part.probe) return part.probe;
      onProgress(part.work_total > 0 ? part.work_done / part.work_total : 0);
    }
  }

  /** Stops the run in progress: its next part is not asked for. */
  stop(): void {
    this.run += 1;
  }
}
