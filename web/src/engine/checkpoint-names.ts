/**
 * A checkpoint of a served model's training timeline is a model of its own
 * to the page, named `<model>.<folder>` ("attn-only-2l.step-03850": the
 * folder under models/<model>/checkpoints/), so that every cache keyed by
 * the model's name (importance results, circuit figures, the syntax probe)
 * tells it from the trained model, and a link to it names it (the name is a
 * URL model name: letters, digits, . _ -). The trained model itself is the
 * timeline's last point, under its own name.
 */

const CHECKPOINT_NAME = /^([A-Za-z0-9_][\w.-]*?)\.(step-\d{1,9})$/;

export interface CheckpointRef {
  /** The served model whose timeline it belongs to. */
  model: string;
  /** Its folder under models/<model>/checkpoints/ ("step-03850"). */
  folder: string;
}

/** The page's name of timeline point `dir` (timeline.json: "checkpoints/step-03850", or "." for the model). */
export function checkpointName(model: string, dir: string): string {
  if (dir === '.') return model;
  const folder = /^checkpoints\/(step-\d{1,9})$/.exec(dir)?.[1];
  if (!folder) throw new Error(`timeline point "${dir}" is not a checkpoints/step-N folder`);
  return `${model}.${folder}`;
}

/** The checkpoint a model name names, or null for a plain model name. */
export function checkpointOf(name: string): CheckpointRef | null {
  const match = CHECKPOINT_NAME.exec(name);
  return match ? { model: match[1]!, folder: match[2]! } : null;
}

/** The served model a name belongs to: itself, or the model of its checkpoint. */
export function baseModelName(name: string): string {
  return checkpointOf(name)?.model ?? name;
}

/** The folder URL of a served model or checkpoint under the models base URL. */
export function modelFolderUrl(name: string, modelsBase: URL): URL {
  const ref = checkpointOf(name);
  return ref
    ? new URL(`${ref.model}/checkpoints/${ref.folder}/`, modelsBase)
    : new URL(`${name}/`, modelsBase);
}
