/**
 * Loading models: a served one by name, a checkpoint of a served model's
 * training timeline (engine/checkpoint-names.ts; its files kept by
 * CheckpointFiles), or the reader's own files (engine/open-local.ts checks
 * them first). On failure the previous model stays, with the error shown.
 */
import { baseModelName, checkpointOf, modelFolderUrl } from '../engine/checkpoint-names';
import type { EngineClient } from '../engine/client';
import { modelsBaseUrl } from '../engine/model-index';
import { openLocalModel } from '../engine/open-local';
import type { LoadedModel, Progress } from '../engine/protocol';
import type { ModelPicker } from '../views/model-picker';
import { formatBytes } from '../state/format';
import type { StatusView } from '../views/status';
import { CheckpointFiles } from './checkpoint-files';
import { messageOf, type PageController } from './page-controller';

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function describeModel(model: LoadedModel): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    `${plural(model.n_layer, 'layer')} × ${plural(model.n_head, 'head')}`,
    `d_model ${model.n_embd}`,
    `${formatCount(model.n_params)} parameters`,
    model.attn_only ? 'attention only' : null,
    checkpointOf(model.name) ? `training checkpoint ${checkpointOf(model.name)!.folder}` : null,
    formatBytes(model.bytes),
  ]
    .filter((part) => part !== null)
    .join(' · ');
}

export class ModelLoader {
  constructor(
    private readonly client: EngineClient,
    private readonly page: PageController,
    private readonly picker: ModelPicker,
    private readonly status: StatusView,
  ) {}

  /** The reader's own files of the model loaded last, if it was theirs (reload() reads them again). */
  private localFiles: File[] | null = null;
  /** The checkpoints loaded so far (the Training view scrubs back and forth). */
  readonly checkpoints = new CheckpointFiles();

  /**
   * Loads the current model again into a restarted engine (engine-recovery.ts):
   * the served one by name, or the reader's files read again. The page keeps
   * its text, edits and view: only the engine is new.
   */
  async reload(): Promise<string | null> {
    const model = this.page.state.model;
    if (!model) return null;
    if (this.localFiles) return this.openLocalFiles(this.localFiles);
    return this.switchModel(model.name);
  }

  /**
   * Loads a served model; on failure the previous one stays, the error is
   * shown, and returned (null: loaded) for a caller that must answer for it.
   */
  async switchModel(name: string, report?: (progress: Progress) => void): Promise<string | null> {
    const folder = modelFolderUrl(name, modelsBaseUrl());
    const result = await this.loadAndShow(`Loading model ${name}…`, async (onProgress) => {
      const progress = (p: Progress) => {
        onProgress('Downloading', p);
        report?.(p);
      };
      if (!checkpointOf(name)) return this.client.call('loadModel', { name, baseUrl: folder.href }, progress);
      const files = await this.checkpoints.files(name, folder, progress);
      progress({ label: 'loading the weights', loaded: 0, total: 0, timed: true });
      return this.client.call('loadModelFiles', files, progress, [files.safetensors.buffer as ArrayBuffer]);
    });
    if ('error' in result) return result.error;
    this.localFiles = null;
    return null;
  }

  async openLocalFiles(files: File[]): Promise<string | null> {
    const result = await this.loadAndShow('Opening your model…', async (onProgress) => {
      const opened = await openLocalModel(this.client, files, (progress) => onProgress('Reading', progress));
      return opened.model;
    });
    if (!('loaded' in result)) return result.error;
    this.picker.showLocal(result.loaded, files);
    this.localFiles = files;
    return null;
  }

  private async loadAndShow(
    summary: string,
    load: (onProgress: (stage: string, progress: Progress) => void) => Promise<LoadedModel>,
  ): Promise<{ loaded: LoadedModel } | { error: string }> {
    const { picker, status, page } = this;
    picker.setBusy(true);
    status.setSummary(summary);
    try {
      const loaded = await load((stage, progress) => status.showProgress(stage, progress));
      page.modelLoaded(loaded);
      picker.show(baseModelName(loaded.name));
      status.setSummary(describeModel(loaded));
      status.clearMessage();
      page.changed('model');
      page.store.request();
      return { loaded };
    } catch (error) {
      // The worker keeps the previous model: say what went wrong and carry on with it.
      const model = page.state.model;
      const message = messageOf(error);
      status.showError(message);
      picker.show(model ? baseModelName(model.name) : null);
      status.setSummary(model ? describeModel(model) : 'No model loaded.');
      return { error: message };
    } finally {
      status.hideProgress();
      picker.setBusy(false);
    }
  }
}
