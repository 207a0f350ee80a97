/**
 * The "Fine-tune heads" panel (issue 18): the reader picks heads (the
 * selected one, or a list typed as "1.3, 2.0") and example texts (typed,
 * one a line, or a preset), presses Fine-tune, and the engine's worker
 * trains only those heads' slices of c_attn and c_proj for the steps asked,
 * a part at a time (views/finetune-run.ts; the bar moves after each part,
 * the page stays answered, Cancel stops it and the model stays as it was).
 * Then the panel shows the effects (views/finetune-figures.ts), the
 * fine-tuned model becomes the page's (the open-your-files path, as the
 * Train panel's Open in explorer), Undo opens the original again (a served
 * model by name, as the picker does; the reader's own files from the copy
 * of their weights the reply carried), and Download saves the folder.
 */
import type { EngineClient } from '../engine/client';
import type { FineTunePart, FineTuneReply } from '../engine/protocol';
import type { PageActions, ViewFactory } from '../app/view';
import { dedupeHeads, headName } from '../state/heads';
import type { HeadRef } from '../state/heads';
import { save } from './export';
import { DEFAULT_HELDOUT, FINETUNE_PRESETS, isReadersFiles, shippedNameOf } from './finetune-presets';
import { FineTuneFigures } from './finetune-figures';
import { FineTuneRun } from './finetune-run';
import { asFolder, folderZip } from './model-folder';
import type { ModelFolderFiles } from './model-folder';
import { button, labelled } from './form-controls';
import { element } from './panel-dom';

const RATES = [0.001, 0.003, 0.01, 0.03] as const;
/** The defaults the presets were chosen with (finetune-presets.ts). */
export const DEFAULT_RATE = 0.003;
export const DEFAULT_STEPS = 20;

/** "1.3, 2.0" -> heads; names the first bad entry. */
export function parseHeadList(text: string, n_layer: number, n_head: number): HeadRef[] {
  const heads: HeadRef[] = [];
  for (const part of text.split(/[\s,;]+/).filter((p) => p.length > 0)) {
    const match = /^(\d+)\.(\d+)$/.exec(part);
    if (!match) throw new Error(`"${part.slice(0, 20)}" is not a head: write layer.head, e.g. 1.3`);
    const head = { layer: Number(match[1]), head: Number(match[2]) };
    if (head.layer >= n_layer || head.head >= n_head)
      throw new Error(`head ${part} is outside this model (${n_layer} layers × ${n_head} heads)`);
    heads.push(head);
  }
  return dedupeHeads(heads);
}

/** A model folder the panel made: its files and its folder name. */
interface Folder {
  files: ModelFolderFiles;
  folder: string;
}

/**
 * The model before the first fine-tuning, for Undo: a served one (or a
 * checkpoint of one) is opened again by name; the reader's own files from
 * the copy of their weights the first reply carried (the page cannot
 * fetch them again).
 */
interface Original {
  name: string;
  files: Folder | null;
}

class FineTunePanel {
  private readonly heads = element('input', 'train-select ft-heads', 'finetune-heads');
  private readonly addHead = button('Add the selected head', 'finetune-add-head');
  private readonly preset = element('select', 'train-select', 'finetune-preset');
  private readonly presetNote = element('p', 'note', 'finetune-preset-note');
  private readonly examples = element('textarea', 'train-select ft-text', 'finetune-examples');
  private readonly heldout = element('textarea', 'train-select ft-text', 'finetune-heldout');
  private readonly steps = element('input', 'train-seed', 'finetune-steps');
  private readonly rate = element('select', 'train-select', 'finetune-lr');
  private readonly start = button('Fine-tune', 'finetune-start', true);
  private readonly cancel = button('Cancel', 'finetune-cancel');
  private readonly undo = button('Undo (original weights)', 'finetune-undo');
  private readonly download = button('Download model', 'finetune-download');
  private readonly bar = element('progress', '', 'finetune-progress');
  private readonly status = element('p', 'note', 'finetune-status');
  private readonly figures = new FineTuneFigures();
  /** What the panel holds: the frame's model and head, a run, the folders for Undo and Download. */
  private readonly state: {
    model: { name: string; n_layer: number; n_head: number } | null;
    selected: HeadRef;
    /** Busy: a run (cancellable while `run` is set) or an Undo. */
    running: boolean;
    run: FineTuneRun | null;
    tuned: Folder | null;
    original: Original | null;
  } = { model: null, selected: { layer: 0, head: 0 }, running: false, run: null, tuned: null, original: null };

  constructor(
    private readonly host: HTMLElement,
    private readonly page: PageActions,
    private readonly engine: Pick<EngineClient, 'call'>,
  ) {
    this.heads.type = 'text';
    this.heads.placeholder = 'e.g. 1.3, 2.0';
    this.heads.spellcheck = false;
    this.preset.append(new Option('Your own examples', ''));
    FINETUNE_PRESETS.forEach((p, i) => this.preset.append(new Option(p.label, String(i))));
    this.examples.rows = 5;
    this.examples.placeholder = 'One example text a line';
    this.heldout.rows = 3;
    this.heldout.value = DEFAULT_HELDOUT;
    this.steps.type = 'number';
    this.steps.min = '1';
    this.steps.max = '500';
    this.steps.value = String(DEFAULT_STEPS);
    for (const lr of RATES) this.rate.append(new Option(String(lr), String(lr)));
    this.rate.value = String(DEFAULT_RATE);
    this.bar.hidden = true;
    this.bar.setAttribute('aria-label', 'Fine-tuning: steps done');
    this.cancel.setAttribute('aria-label', 'Cancel the fine-tuning (the model stays as it was)');
    // The outcome is announced; the step counts while it runs are the bar's.
    this.status.setAttribute('aria-live', 'polite');

    const headsRow = element('div', 'train-controls');
    headsRow.append(labelled('Heads to fine-tune', this.heads), this.addHead, labelled('Preset', this.preset));
    const texts = element('div', 'ft-texts');
    texts.append(
      labelled('Example texts (trained on, one a line)', this.examples, 'train-field ft-wide'),
      labelled('Held-out text (not trained on: the side effect)', this.heldout, 'train-field ft-wide'),
    );
    const settings = element('div', 'train-controls');
    settings.append(labelled('Steps', this.steps), labelled('Learning rate', this.rate));
    const actions = element('div', 'train-actions');
    actions.append(this.start, this.cancel, this.undo, this.download);
    host.append(headsRow, this.presetNote, texts, settings, actions, this.bar, this.status, this.figures.root);

    this.addHead.addEventListener('click', () => this.addSelected());
    this.preset.addEventListener('change', () => this.applyPreset());
    this.start.addEventListener('click', () => void this.run());
    this.cancel.addEventListener('click', () => this.stop());
    this.undo.addEventListener('click', () => void this.restore());
    this.download.addEventListener('click', () => this.save());
    this.paint();
  }

  /** The frame's model and selected head. */
  see(model: { name: string; n_layer: number; n_head: number }, head: HeadRef): void {
    this.state.model = model;
    this.state.selected = head;
    // Another model opened (the picker): Undo no longer means going back.
    const original = this.state.original;
    if (original && !this.state.running && shippedNameOf(model.name) !== shippedNameOf(original.name)) {
      this.state.original = null;
      this.state.tuned = null;
    }
    this.addHead.textContent = `Add the selected head (${headName(head)})`;
    if (!this.heads.value.trim()) this.heads.value = headName(head);
    this.paint();
  }

  private addSelected(): void {
    const name = headName(this.state.selected);
    const listed = this.heads.value.split(/[\s,;]+/).filter((p) => p.length > 0);
    if (!listed.includes(name)) this.heads.value = [...listed, name].join(', ');
  }

  private applyPreset(): void {
    const preset = FINETUNE_PRESETS[Number(this.preset.value)];
    if (this.preset.value === '' || !preset) {
      this.presetNote.textContent = '';
      return;
    }
    this.examples.value = preset.examples.join('\n');
    const heads = this.state.model ? preset.heads[shippedNameOf(this.state.model.name)] : undefined;
    this.heads.value = (heads ?? [this.state.selected]).map(headName).join(', ');
    this.presetNote.textContent =
      preset.note + (heads ? '' : ' (This model has no tested head for the preset: it targets the selected head.)');
  }

  private async run(): Promise<void> {
    const model = this.state.model;
    if (!model || this.state.running) return;
    let heads: HeadRef[];
    try {
      heads = parseHeadList(this.heads.value, model.n_layer, model.n_head);
      if (heads.length === 0) throw new Error('choose at least one head to fine-tune (e.g. 1.3)');
    } catch (error) {
      this.fail(error);
      return;
    }
    const steps = Number(this.steps.value);
    const run = new FineTuneRun(
      this.engine,
      {
        heads: Int32Array.from(heads.flatMap((h) => [h.layer, h.head])),
        examples: this.examples.value.split('\n'),
        heldout: this.heldout.value,
        steps,
        lr: Number(this.rate.value),
        // Undo goes back to the weights before the first fine-tuning: only
        // then, and only for the reader's own files, does the reply carry them.
        keep_original: this.state.original === null && isReadersFiles(model.name),
      },
      (part) => this.progress(part),
    );
    const startFocused = document.activeElement === this.start;
    this.state.running = true;
    this.state.run = run;
    this.bar.hidden = false;
    this.bar.removeAttribute('value');
    this.status.textContent = `Fine-tuning ${heads.map(headName).join(', ')} of ${model.name}…`;
    this.host.dataset['state'] = 'running';
    this.host.dataset['stepsDone'] = '0';
    this.host.dataset['parts'] = '0';
    this.paint();
    // The reader pressed Fine-tune from the keyboard: Cancel is the next thing they may want.
    if (startFocused) this.cancel.focus();
    try {
      const outcome = await run.run();
      if (outcome.kind === 'tuned') {
        await this.show(outcome.reply, model);
      } else {
        this.status.textContent = `Cancelled after ${outcome.stepsDone} of ${outcome.steps} steps: ${model.name} is as it was.`;
        this.host.dataset['state'] = 'cancelled';
      }
    } catch (error) {
      this.fail(error);
    } finally {
      const cancelFocused = document.activeElement === this.cancel;
      this.state.running = false;
      this.state.run = null;
      this.bar.hidden = true;
      this.paint();
      if (cancelFocused) this.start.focus();
    }
  }

  /** A part arrived: the bar and the latest loss. */
  private progress(part: FineTunePart): void {
    this.bar.max = part.steps_total;
    this.bar.value = part.steps_done;
    this.bar.setAttribute('aria-valuetext', `${part.steps_done} of ${part.steps_total} steps`);
    const loss = part.losses[part.losses.length - 1];
    this.status.textContent =
      `Fine-tuning: step ${part.steps_done} of ${part.steps_total}` + (loss === undefined ? '' : `, loss ${loss.toFixed(3)}`);
    this.host.dataset['stepsDone'] = String(part.steps_done);
    this.host.dataset['parts'] = String(Number(this.host.dataset['parts'] ?? 0) + 1);
    this.host.dataset['partMs'] = part.compute_ms.toFixed(0);
  }

  private stop(): void {
    if (!this.state.run) return;
    this.state.run.cancel();
    this.status.textContent = 'Cancelling after the step under way…';
    this.cancel.disabled = true;
  }

  /** Draws the effects, then opens the fine-tuned model as the page's. */
  private async show(reply: FineTuneReply, model: { name: string; n_head: number }): Promise<void> {
    const heads = reply.heads;
    const tag = Array.from({ length: heads.length / 2 }, (_, i) => `${heads[2 * i]}.${heads[2 * i + 1]}`).join('-');
    // The folder names say what the model is, not how the page opened it.
    const base = model.name.replace(/ \(your files\)$/, '');
    const shared = { config_json: reply.config_json, vocab_json: reply.vocab_json, merges_txt: reply.merges_txt };
    // Undo goes back to the weights before the first fine-tuning, not the last.
    this.state.original ??= reply.original_safetensors
      ? { name: model.name, files: { files: { ...shared, safetensors: reply.original_safetensors }, folder: base } }
      : { name: model.name, files: null };
    this.state.tuned = { files: { ...shared, safetensors: reply.safetensors }, folder: `${shippedNameOf(base)}-tuned-${tag}` };
    this.figures.draw(reply, model.n_head);
    const d = this.host.dataset;
    d['examplesBefore'] = reply.examples_loss_before.toFixed(4);
    d['examplesAfter'] = reply.examples_loss_after.toFixed(4);
    d['heldoutBefore'] = reply.heldout_loss_before.toFixed(4);
    d['heldoutAfter'] = reply.heldout_loss_after.toFixed(4);
    const error = await this.page.openModelFiles(asFolder(this.state.tuned.files, this.state.tuned.folder));
    this.status.textContent = error
      ? `Fine-tuned, but the page could not open it: ${error}`
      : `Fine-tuned ${reply.losses.length} steps in ${(reply.compute_ms / 1000).toFixed(1)} s: the page now shows ` +
        `${this.state.tuned.folder}. Undo opens ${this.state.original.name} again.`;
    d['state'] = error ? 'failed' : 'tuned';
  }

  private async restore(): Promise<void> {
    const original = this.state.original;
    if (!original || this.state.running) return;
    this.state.running = true;
    this.paint();
    // A served model: the picker's own load (its name in the picker and the
    // URL, the download cached). The reader's files: the copy of their weights.
    const error = original.files
      ? await this.page.openModelFiles(asFolder(original.files.files, original.files.folder))
      : await this.page.openModel(original.name);
    this.state.running = false;
    if (error) {
      this.status.textContent = `Could not restore the original weights: ${error}`;
    } else {
      this.state.tuned = null;
      this.state.original = null;
      this.status.textContent = `Undone: the page shows ${original.name} with its original weights.`;
      this.host.dataset['state'] = 'undone';
    }
    this.paint();
  }

  private save(): void {
    const tuned = this.state.tuned;
    if (!tuned) return;
    save(folderZip(tuned.files, tuned.folder), `${tuned.folder}.zip`);
    this.status.textContent = `Saved ${tuned.folder}.zip: unzip it and run build/native/headlight run --model ${tuned.folder}`;
  }

  private fail(error: unknown): void {
    this.status.textContent = error instanceof Error ? error.message : String(error);
    this.status.classList.add('is-warning');
    this.host.dataset['state'] = 'failed';
  }

  private paint(): void {
    if (this.state.running) this.status.classList.remove('is-warning');
    this.start.disabled = this.state.running || !this.state.model;
    this.cancel.disabled = !this.state.run;
    this.status.setAttribute('aria-busy', String(this.state.running));
    this.undo.disabled = this.state.running || !this.state.original;
    this.download.disabled = this.state.running || !this.state.tuned;
  }
}

export const finetuneView: ViewFactory = ({ root, page, engine }) => {
  const host = root.querySelector<HTMLElement>('[data-role="finetune"]');
  const panel = host ? new FineTunePanel(host, page, engine) : null;
  return {
    label: 'finetune',
    draw({ model, head }) {
      panel?.see(model, head);
    },
  };
};
