/**
 * A macrotask later: the page's requests made meanwhile reach the worker
 * before the next part of a long computation is asked for (the copying
 * scores, app/copying-store.ts; the syntax probe, app/syntax-runs.ts;
 * fine-tuning, views/finetune-run.ts).
 */
export const afterPageTasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
