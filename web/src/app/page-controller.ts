/**
 * The page controller: holds the reader's choices (state/app-state.ts) and
 * is the one way they change. Every change goes through changed(reason),
 * which starts the engine first (the rest runs while it computes), keeps the
 * URL in step (app/url-sync.ts), draws the frame the change calls for
 * (app/analysis-store.ts -> app/views.ts) and tells the app API's listeners.
 * It is the PageActions the views are given.
 */
import type { EngineClient } from '../engine/client';
import type { ComputeMethod, LoadedModel, Methods, Progress } from '../engine/protocol';
import { type AppState, choicesOfState, createState, setModel } from '../state/app-state';
import { headName } from '../state/heads';
import type { UrlState } from '../state/url-state';
import { PendingMark } from '../views/pending-mark';
import type { StatusView } from '../views/status';
import { Tooltip } from '../views/tooltip';
import { AnalysisStore } from './analysis-store';
import { CircuitStore } from './circuit-store';
import { CopyingStore } from './copying-store';
import { type AppSnapshot, ChangeEmitter, type ChangeReason, type PanelName } from './app-api';
import { EditPreparer } from './edit-preparer';
import { UrlSync } from './url-sync';
import type { CircuitField, PageActions } from './view';
import { ViewSet } from './views';

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class PageController implements PageActions {
  readonly state: AppState = createState();
  readonly changes = new ChangeEmitter();
  readonly urlSync: UrlSync;
  readonly store: AnalysisStore;
  /** The loaded model's copying scores (computed in parts after the load for a large model). */
  readonly copying: CopyingStore;
  private readonly preparer: EditPreparer;
  /** How a view's openModel loads a model: the ModelLoader's, set by boot once it exists. */
  modelSwitcher: ((name: string, report?: (progress: Progress) => void) => Promise<string | null>) | null = null;

  constructor(
    private readonly client: EngineClient,
    private readonly status: StatusView,
    private readonly textInput: HTMLTextAreaElement,
    notice: { box: HTMLElement; text: HTMLElement },
  ) {
    this.urlSync = new UrlSync(this.state, notice);
    const circuits = new CircuitStore(client, this.state);
    this.copying = new CopyingStore(client);
    const views = new ViewSet({ root: document.body, tooltip: new Tooltip(), page: this, engine: client, circuits, copying: this.copying });
    this.store = new AnalysisStore(client, this.state, views, status, {
      settled: () => this.urlSync.writeIfDue(),
      announce: () => this.changes.emit(this.snapshot(), 'analysis'),
    }, new PendingMark(document.body));
    this.preparer = new EditPreparer(client, this.state, () => this.store.drawnSeq);
  }

  changed(reason: ChangeReason): void {
    // The engine starts first: the rest runs while it computes.
    if (reason === 'edits') this.store.request();
    if (reason === 'edits') this.urlSync.writeLater();
    else this.urlSync.write();
    if (reason === 'hidden') this.applyHidden();
    if (reason === 'edits') this.store.draw('gains');
    else if (reason === 'text') this.store.request();
    else if (reason === 'selection' || reason === 'view') this.store.draw('selection');
    this.changes.emit(this.snapshot(), reason);
  }

  /** Everything the reader chose, for the app API. */
  snapshot(): AppSnapshot {
    return {
      ...choicesOfState(this.state, this.urlSync.pendingEdits),
      n_layer: this.state.model?.n_layer ?? 0,
      n_head: this.state.model?.n_head ?? 0,
    };
  }

  edit(apply: (state: AppState) => void): void {
    if (!this.state.model) return;
    try {
      apply(this.state);
    } catch (error) {
      this.status.showError(messageOf(error));
      return;
    }
    this.changed('edits');
  }

  openModel(name: string, report?: (progress: Progress) => void): Promise<string | null> {
    return this.modelSwitcher ? this.modelSwitcher(name, report) : Promise.resolve('the page is still starting');
  }

  compute<M extends ComputeMethod>(method: M, params: Methods[M]['params']): Promise<Methods[M]['result']> {
    return this.client.call(method, params);
  }

  prepareEdit(apply: (ahead: AppState) => void): void {
    this.preparer.aim(apply);
  }

  selectHead(layer: number, head: number): void {
    const { model } = this.state;
    if (!model) return;
    if (!(layer >= 0 && layer < model.n_layer && head >= 0 && head < model.n_head)) {
      this.status.showError(`Head ${headName({ layer, head })} is outside this model (${model.n_layer} layers × ${model.n_head} heads).`);
      return;
    }
    this.state.selectedHead = { layer, head };
    this.changed('selection');
  }

  selectPosition(position: number): void {
    if (!Number.isInteger(position) || position < -1) return;
    this.state.selectedPosition = position;
    this.changed('selection');
  }

  setDisplay<F extends 'view' | 'colorMode' | 'source'>(field: F, value: AppState[F]): void {
    this.state[field] = value;
    this.changed('view');
  }

  setCircuit(change: Partial<Pick<AppState, CircuitField>>): void {
    Object.assign(this.state, change);
    this.changed('view');
  }

  setHidden(panels: PanelName[]): void {
    this.state.hidden = panels;
    this.changed('hidden');
  }

  setText(text: string, resetPosition: boolean): void {
    this.state.text = text;
    if (this.textInput.value !== text) this.textInput.value = text;
    if (resetPosition) this.state.selectedPosition = -1;
    document.documentElement.dataset['stale'] = 'true';
    this.changed('text');
  }

  showError(message: string): void {
    this.status.showError(message);
  }

  /** Opens model files as the reader's own (boot.ts sets how: ModelLoader.openLocalFiles). */
  modelOpener: ((files: File[]) => Promise<string | null>) | null = null;

  openModelFiles(files: File[]): Promise<string | null> {
    return this.modelOpener ? this.modelOpener(files) : Promise.resolve('the page has not started yet');
  }

  /** Shows the panels the state does not hide. */
  applyHidden(): void {
    for (const panel of document.querySelectorAll<HTMLElement>('[data-panel]')) {
      panel.hidden = this.state.hidden.includes(panel.dataset['panel'] as PanelName);
    }
  }

  /** Applies a link's choices (the initial hash, or one the reader edited); returns its model. */
  applyUrl(url: UrlState): string | null {
    const model = this.urlSync.apply(url);
    this.textInput.value = url.text;
    this.applyHidden();
    return model;
  }

  /** The reader edited or pasted a link: apply it whole. Returns a model to load, if another. */
  applyEditedUrl(url: UrlState, problems: string[]): string | null {
    this.urlSync.clearProblems();
    this.urlSync.showProblems(problems);
    const model = this.applyUrl(url);
    if (model && model !== this.state.model?.name) return model;
    this.urlSync.applyPendingEdits();
    this.store.draw('gains');
    this.changed('url');
    this.store.request();
    return null;
  }

  /** A model is loaded: every head as trained (or the link's edits), the selection kept if it fits. */
  modelLoaded(model: LoadedModel): void {
    const fromUrl = this.urlSync.pendingEdits !== null;
    const lostHead = setModel(this.state, model);
    if (lostHead && fromUrl) {
      this.urlSync.showProblems([`head ${lostHead} is outside this model (${model.n_layer} layers × ${model.n_head} heads): showing head 0.0`]);
    }
    this.urlSync.applyPendingEdits();
    this.store.draw('gains');
    this.copying.modelLoaded(model);
  }
}
