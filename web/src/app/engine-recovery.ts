/**
 * When the engine worker dies or its wasm module aborts (out of memory, a
 * trap), the page says so, starts a new worker and loads the model it had
 * (ModelLoader.reload): the text, edits and view stay, as the URL holds them.
 * A crash that comes back at once (the same input crashes the new engine)
 * (also while a restart is under way) is not retried forever: after MAX_RESTARTS within RESTART_WINDOW_MS the
 * page stops and asks for a reload.
 */
import type { EngineClient } from '../engine/client';
import type { StatusView } from '../views/status';

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

export function installRecovery(
  client: EngineClient,
  status: StatusView,
  /** Starts the engine and loads the model again: null, or what went wrong (already shown). */
  restartEngine: () => Promise<string | null>,
): void {
  const recovery = { restarts: [] as number[] };
  client.onFatal = (reason) => {
    const now = performance.now();
    recovery.restarts = recovery.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (recovery.restarts.length >= MAX_RESTARTS) {
      status.setSummary('The engine stopped.');
      status.showError(
        `The engine stopped again (${reason}): ${MAX_RESTARTS} restarts in a minute. Reload the page to start over.`,
      );
      return;
    }
    recovery.restarts.push(now);
    client.restart();
    status.setSummary('The engine stopped: restarting it…');
    void restartEngine().then((problem) => {
      if (problem === null) {
        status.showNotice(`The engine stopped (${reason}) and was restarted with the same model and state.`, true);
      }
    });
  };
}
