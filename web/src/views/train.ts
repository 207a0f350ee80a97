/**
 * The "Train a model live" panel (issue 18): the reader picks a small
 * attention-only model, a task, a run length (short, or the long run that
 * grows an induction head from scratch), a learning rate and a seed, presses Train,
 * and watches the loss curve, the steps per second, the in-context-learning
 * score, every head's induction and previous-token scores over time (small
 * multiples) and every head's attention on the fixed probe. The training runs
 * in its own worker (engine/train-client.ts); this view only draws what it
 * reports, at most once per animation frame. A stopped run opens in the
 * explorer (the page's own open-your-files path) or downloads as a zip of
 * the model folder.
 */
import type { ViewFactory } from '../app/view';
import { TrainClient } from '../engine/train-client';
import type { TrainChoices, TrainCreated, TrainEvent, TrainProbe, TrainedFiles } from '../engine/train-protocol';
import { save } from './export';
import { button, labelled } from './form-controls';
import { element } from './panel-dom';
import { TrainRun } from './train-run';
import { TrainFigures } from './train-figures';
import { asFolder, folderZip } from './model-folder';

/** Model sizes offered: the default first; the largest still trains in minutes on one core. */
const SIZES: readonly { label: string; n_layer: number; n_head: number; n_embd: number }[] = [
  { label: '2 layers × 4 heads, d 64', n_layer: 2, n_head: 4, n_embd: 64 },
  { label: '1 layer × 4 heads, d 64 (no induction head possible)', n_layer: 1, n_head: 4, n_embd: 64 },
  { label: '2 layers × 2 heads, d 32', n_layer: 2, n_head: 2, n_embd: 32 },
  { label: '2 layers × 8 heads, d 128', n_layer: 2, n_head: 8, n_embd: 128 },
  { label: '3 layers × 4 heads, d 96', n_layer: 3, n_head: 4, n_embd: 96 },
];
/** The long run's size: the one it was measured at, 2 x 8, d 128 (models/README.md, "Live training in the page"). */
const LONG_SIZE = SIZES.findIndex((s) => s.n_layer === 2 && s.n_head === 8 && s.n_embd === 128);
/** How long a run is (core/live_training.cpp, kShort and kLong). */
const SCHEDULES: readonly { value: 'short' | 'long'; label: string }[] = [
  { value: 'short', label: 'Short: 3,000 steps, minutes' },
  // attn-only-2l's warm-up, steps of 2,048 tokens: about 45 minutes at 2 x 8, d 128 in Chromium.
  { value: 'long', label: 'Long: 8,000 steps, about 45 min' },
];
const RATES = [0.001, 0.002, 0.005, 0.01] as const;
const DEFAULT_RATE = 0.005;

function option(value: string, text: string): HTMLOptionElement {
  const node = document.createElement('option');
  node.value = value;
  node.textContent = text;
  return node;
}

class TrainPanel {
  private readonly client = new TrainClient((event) => this.receive(event));
  private readonly run = new TrainRun();
  private readonly figures: TrainFigures;
  private readonly size = element('select', 'train-select', 'train-size');
  private readonly task = element('select', 'train-select', 'train-task');
  private readonly schedule = element('select', 'train-select', 'train-schedule');
  private readonly rate = element('select', 'train-select', 'train-lr');
  private readonly seed = element('input', 'train-seed', 'train-seed');
  private readonly trainButton = button('Train', 'train-start', true);
  private readonly pauseButton = button('Pause', 'train-pause');
  private readonly resumeButton = button('Resume', 'train-resume');
  private readonly resetButton = button('Reset', 'train-reset');
  private readonly openButton = button('Open in explorer', 'train-open');
  private readonly downloadButton = button('Download model', 'train-download');
  private readonly status = element('p', 'note train-status', 'train-status');
  private readonly command = element('p', 'note train-command', 'train-command');
  /** A repaint is asked for (one per animation frame at most). */
  private paintAsked = false;
  /** A 'start' waits for the worker to load. */
  private starting = false;

  constructor(private readonly host: HTMLElement, private readonly openFiles: (files: File[]) => Promise<string | null>) {
    for (const [i, size] of SIZES.entries()) this.size.append(option(String(i), size.label));
    this.task.append(option('repeat', 'Repeated random tokens'), option('text', 'English text (with repeats)'));
    for (const s of SCHEDULES) this.schedule.append(option(s.value, s.label));
    for (const lr of RATES) this.rate.append(option(String(lr), String(lr)));
    this.rate.value = String(DEFAULT_RATE);
    this.seed.type = 'number';
    this.seed.min = '0';
    this.seed.step = '1';
    this.seed.value = '1';
    this.seed.inputMode = 'numeric';

    const controls = element('div', 'train-controls');
    controls.append(
      labelled('Model', this.size),
      labelled('Task', this.task),
      labelled('Run', this.schedule),
      labelled('Learning rate', this.rate),
      labelled('Seed', this.seed),
    );
    const actions = element('div', 'train-actions');
    actions.append(this.trainButton, this.pauseButton, this.resumeButton, this.resetButton, this.openButton, this.downloadButton);
    this.figures = new TrainFigures(host);
    host.append(controls, actions, this.status, this.figures.root, this.command);

    this.trainButton.addEventListener('click', () => void this.start());
    this.pauseButton.addEventListener('click', () => this.client.pause());
    this.resumeButton.addEventListener('click', () => this.client.resume());
    this.resetButton.addEventListener('click', () => this.reset());
    this.openButton.addEventListener('click', () => void this.openInExplorer());
    this.downloadButton.addEventListener('click', () => void this.download());
    // The learning rate applies to the run at once (from the worker's next
    // chunk); size, task, run length and seed to the next run: the Train
    // button says so.
    this.rate.addEventListener('change', () => {
      if (this.run.info) {
        const lr = Number(this.rate.value);
        this.client.setLearningRate(lr);
        this.run.note = `Learning rate ${lr} from step ${this.run.stepsDone} on`;
        if (this.run.choices) this.run.choices.lr = lr;
      }
      this.paint();
    });
    // The long run is offered for the size it was measured at: picking it
    // picks that size too (the reader can change it again).
    this.schedule.addEventListener('change', () => {
      if (this.schedule.value === 'long') this.size.value = String(LONG_SIZE);
    });
    for (const control of [this.size, this.task, this.schedule, this.seed]) control.addEventListener('change', () => this.paint());
    new ResizeObserver(() => this.askPaint()).observe(host);
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.askPaint());
    this.paint();
  }

  private choices(): TrainChoices {
    const size = SIZES[Number(this.size.value)] ?? SIZES[0]!;
    const seed = Math.max(0, Math.floor(Number(this.seed.value) || 0));
    return {
      n_layer: size.n_layer,
      n_head: size.n_head,
      n_embd: size.n_embd,
      task: this.task.value === 'text' ? 'text' : 'repeat',
      schedule: this.schedule.value === 'long' ? 'long' : 'short',
      lr: Number(this.rate.value) || DEFAULT_RATE,
      seed,
    };
  }

  private async start(): Promise<void> {
    if (this.starting) return;
    this.starting = true;
    const choices = this.choices();
    this.run.begin(choices);
    this.paint();
    try {
      await this.client.start();
      // Reset pressed while the trainer loaded: no run wanted any more.
      if (this.run.waiting) this.client.train(choices);
    } catch (error) {
      this.run.fail(error instanceof Error ? error.message : String(error));
    } finally {
      this.starting = false;
      this.askPaint();
    }
  }

  private reset(): void {
    this.client.reset();
    this.run.clear();
    this.paint();
  }

  private async modelFiles(): Promise<{ files: TrainedFiles; folder: string } | null> {
    try {
      const files = await this.client.files();
      const c = this.run.info!;
      return { files, folder: `live-${c.n_layer}l${c.n_head}h-d${c.n_embd}-step${files.steps_done}` };
    } catch (error) {
      this.run.note = error instanceof Error ? error.message : String(error);
      this.askPaint();
      return null;
    }
  }

  private async openInExplorer(): Promise<void> {
    const made = await this.modelFiles();
    if (!made) return;
    const error = await this.openFiles(asFolder(made.files, made.folder));
    this.run.note = error ? `Could not open it: ${error}` : `Opened ${made.folder} in the explorer above.`;
    this.askPaint();
  }

  private async download(): Promise<void> {
    const made = await this.modelFiles();
    if (!made) return;
    save(folderZip(made.files, made.folder), `${made.folder}.zip`);
    this.run.note = `Saved ${made.folder}.zip: unzip it and run build/native/headlight run --model ${made.folder}`;
    this.askPaint();
  }

  private receive(event: TrainEvent): void {
    switch (event.kind) {
      case 'ready':
        return;
      case 'created':
        this.run.onCreated(event.run, event.info as TrainCreated);
        break;
      case 'steps':
        this.run.onSteps(event.run, event.losses, event.steps_done, event.total_steps, event.steps_per_s);
        break;
      case 'probe':
        this.run.onProbe(event.run, event.probe as TrainProbe);
        break;
      case 'state':
        this.run.onState(event.run, event.playing, event.finished);
        break;
      case 'error':
        this.run.fail(event.message);
        break;
      case 'files':
        return;
    }
    this.askPaint();
  }

  private askPaint(): void {
    if (this.paintAsked) return;
    this.paintAsked = true;
    requestAnimationFrame(() => {
      this.paintAsked = false;
      this.paint();
    });
  }

  private paint(): void {
    const run = this.run;
    const has = run.info !== null;
    this.trainButton.disabled = run.playing || this.starting;
    const changed = has && JSON.stringify(this.choices()) !== JSON.stringify(run.choices);
    this.trainButton.textContent = !has ? 'Train' : changed ? 'Train with the new settings' : 'Train again';
    this.pauseButton.disabled = !run.playing;
    this.resumeButton.disabled = run.playing || !has || run.finished;
    this.resetButton.disabled = !has && !this.starting;
    this.openButton.disabled = run.playing || !has || run.stepsDone === 0;
    this.downloadButton.disabled = this.openButton.disabled;
    this.status.textContent = run.statusLine();
    this.status.classList.toggle('is-warning', run.error !== null);
    this.command.textContent = run.info
      ? `The same run (as it started) on the command line: headlight train --train web/public/train/sample.txt ` +
        `--val web/public/train/sample.txt --tokenizer web/public/train --out DIR --threads 1 ${run.info.train_flags}`
      : '';
    this.host.dataset['steps'] = String(run.stepsDone);
    this.host.dataset['playing'] = String(run.playing);
    this.host.dataset['finished'] = String(run.finished);
    this.host.dataset['bestInduction'] = run.bestInduction().toFixed(4);
    // Mean loss of the first and the latest 10 steps: has the loss come down?
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    this.host.dataset['lossFirst'] = mean(run.losses.slice(0, 10)).toFixed(4);
    this.host.dataset['lossRecent'] = mean(run.losses.slice(-10)).toFixed(4);
    if (run.inductionAt) {
      this.host.dataset['inductionAtStep'] = String(run.inductionAt.step);
      this.host.dataset['inductionAtS'] = run.inductionAt.seconds.toFixed(2);
    } else {
      delete this.host.dataset['inductionAtStep'];
      delete this.host.dataset['inductionAtS'];
    }
    this.figures.draw(run);
  }
}

export const trainView: ViewFactory = ({ root, page }) => {
  const host = root.querySelector<HTMLElement>('[data-role="train"]');
  // The panel draws from its own worker's reports, not from the frames.
  if (host) new TrainPanel(host, (files) => page.openModelFiles(files));
  return { label: 'train', draw: () => undefined };
};
