/**
 * URL sync: the reader's choices (state/app-state.ts) in the URL hash,
 * through the one property table (state/url-state.ts), both ways. Writes use
 * history.replaceState, not pushState: edits do not fill the Back button's
 * history. Problems of a link being applied are shown in a notice and add
 * up until it is dismissed.
 */
import { type AppState, applyChoices, choicesOfState } from '../state/app-state';
import { choicesOf, urlStateOf } from '../state/choices';
import { gainsFromEdits, linkTextNote, linkTextOf, serialiseHash, type UrlState } from '../state/url-state';

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
  /**
   * How the link's text differs from the page's (cut to MAX_LINK_TEXT, lone
   * surrogates replaced), or null; shown until dismissed, again when it changes.
   */
  private readonly link = { note: null as string | null, dismissed: false };

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
    const url = this.urlState();
    const note = linkTextNote(linkTextOf(url.text));
    if (note !== this.link.note) {
      this.link.note = note;
      this.link.dismissed = false;
      this.render();
    }
    // serialiseHash never throws (a lone surrogate becomes U+FFFD), so the run goes on.
    const hash = serialiseHash(url);
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
    this.render();
  }

  /** Empties the notice (a new link is applied, or the reader closed it). */
  clearProblems(): void {
    this.problems = [];
    this.link.dismissed = true;
    this.render();
  }

  /** The notice: the link's ignored parts, then what the page's own link leaves out. */
  private render(): void {
    const lines: string[] = [];
    if (this.problems.length > 0) lines.push(`Part of this link was ignored: ${this.problems.join('; ')}.`);
    if (this.link.note && !this.link.dismissed) lines.push(`${this.link.note[0]!.toUpperCase()}${this.link.note.slice(1)}.`);
    this.notice.text.textContent = lines.join(' ');
    this.notice.box.hidden = lines.length === 0;
  }
}
