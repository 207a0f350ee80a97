/**
 * URL sync: the reader's choices (state/app-state.ts) in the URL hash,
 * through the one property table (state/url-state.ts), both ways. Writes use
 * history.replaceState, not pushState: edits do not fill the Back button's
 * history. Problems of a link being applied are shown in a notice and add
 * up until it is dismissed.
 */
import { type AppState, applyChoices, choicesOfState } from '../state/app-state';
import { choicesOf, urlStateOf } from '../state/choices';
import { gainsFromEdits, serialiseHash, type UrlState } from '../state/url-state';

export class UrlSync {
  /** The hash this page wrote last: a hashchange to it is our own. */
  private lastWrittenHash = '';
  /**
   * A head edit's URL is written once its predictions are drawn (or the run
   * fails): history.replaceState takes a few ms of main thread, which would
   * otherwise run beside the engine's rerun, on the same cores.
   */
  private writeDue = false;
  /** Edits from the URL (or the app API), applied once the model they name is loaded. */
  pendingEdits: Pick<UrlState, 'muted' | 'gains'> | null = null;
  private problems: string[] = [];

  constructor(
    private readonly state: AppState,
    private readonly notice: { box: HTMLElement; text: HTMLElement },
  ) {}

  /** The URL state of the reader's choices now. */
  urlState(): UrlState {
    return urlStateOf(choicesOfState(this.state, this.pendingEdits));
  }

  writeLater(): void {
    this.writeDue = true;
  }

  writeIfDue(): void {
    if (this.writeDue) this.write();
  }

  write(): void {
    this.writeDue = false;
    const hash = serialiseHash(this.urlState());
    this.lastWrittenHash = hash;
    const current = window.location.hash.replace(/^#/, '');
    if (current === hash) return;
    const base = window.location.pathname + window.location.search;
    history.replaceState(history.state, '', hash ? `${base}#${hash}` : base);
  }

  /** True for a hash this page wrote itself (its hashchange is not the reader's). */
  isOwn(hash: string): boolean {
    return hash.replace(/^#/, '') === this.lastWrittenHash;
  }

  /**
   * Applies a parsed hash to the state; its edits wait in pendingEdits for
   * the model. Returns the model it names (null = the default).
   */
  apply(url: UrlState): string | null {
    applyChoices(this.state, choicesOf(url));
    this.state.embed = url.embed || new URLSearchParams(window.location.search).get('embed') === '1';
    this.pendingEdits = { muted: url.muted, gains: url.gains };
    return url.model;
  }

  /** Turns pendingEdits into gains for the loaded model (a notice for heads it lacks). */
  applyPendingEdits(): void {
    const { model } = this.state;
    if (!model || !this.pendingEdits) return;
    const { gains, problems } = gainsFromEdits(this.pendingEdits, model.n_layer, model.n_head);
    this.pendingEdits = null;
    this.state.gains = gains;
    this.showProblems(problems);
  }

  showProblems(problems: string[]): void {
    if (problems.length === 0) return;
    this.problems.push(...problems);
    this.notice.text.textContent = `Part of this link was ignored: ${this.problems.join('; ')}.`;
    this.notice.box.hidden = false;
  }

  clearProblems(): void {
    this.problems = [];
    this.notice.box.hidden = true;
  }
}
