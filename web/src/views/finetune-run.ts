/**
 * One fine-tuning as the page runs it (the Fine-tune heads panel): the
 * worker's run started, then its steps asked for a part at a time
 * (engine/finetune-job.ts, about FINETUNE_PART_MS each), the next part only
 * when the last has arrived and the page's own requests of that moment have
 * gone first (a macrotask later, as app/copying-store.ts does), so a head
 * edit or a hover made meanwhile waits one part at most in the worker. Then
 * the effects, or, after cancel(), the run dropped: it trained a copy of
 * the weights, so the loaded model is exactly as it was.
 */
import type { EngineClient } from '../engine/client';
import type { FineTunePart, FineTuneReply, FineTuneRequest } from '../engine/protocol';
import { afterPageTasks } from '../app/page-tasks';

/** How a run ended: its effects, or cancelled after some steps. */
export type FineTuneOutcome =
  | { kind: 'tuned'; reply: FineTuneReply }
  | { kind: 'cancelled'; stepsDone: number; steps: number };

export class FineTuneRun {
  /** Set by cancel(): the loop asks for no more parts. */
  private cancelled = false;

  constructor(
    private readonly engine: Pick<EngineClient, 'call'>,
    private readonly request: FineTuneRequest,
    /** After each part: how far the run is, and that part's losses. */
    private readonly onPart: (part: FineTunePart) => void,
  ) {}

  /** Stops the run after the part under way; run() then resolves to 'cancelled'. */
  cancel(): void {
    this.cancelled = true;
  }

  async run(): Promise<FineTuneOutcome> {
    const started = await this.engine.call('finetuneStart', this.request);
    let stepsDone = 0;
    for (;;) {
      await afterPageTasks();
      if (this.cancelled) {
        await this.engine.call('finetuneCancel', {});
        return { kind: 'cancelled', stepsDone, steps: started.steps };
      }
      const part = await this.engine.call('finetunePart', { model: started.model });
      if (part.cancelled) throw new Error('the fine-tuning stopped: another model was opened');
      stepsDone = part.steps_done;
      this.onPart(part);
      if (part.done) break;
    }
    return { kind: 'tuned', reply: await this.engine.call('finetuneFinish', { model: started.model }) };
  }
}
