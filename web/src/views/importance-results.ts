/**
 * What the reader computed about which heads matter, for the tokens on
 * screen: the last exact scan (zero or mean), the last gradient importance,
 * the last pruning curves, and which of scan or gradient the grid's overlay
 * shows. One named object shared by the importance panel (importance.ts),
 * the pruning panel (pruning.ts) and the exports (importance-export.ts);
 * cleared when the model or the tokens change, since every figure is of
 * one text. Shapes use L = n_layer, H = n_head, T = tokens.
 */
import type { HeadImportance, PruningCurves } from '../engine/protocol';

export class ImportanceResults {
  /** The last exact scan (kind zero or mean). */
  scan: HeadImportance | null = null;
  /** The last gradient importance. */
  gradient: HeadImportance | null = null;
  pruning: PruningCurves | null = null;
  /** Which one the grid's overlay shows: null = none (hidden or nothing computed). */
  shown: 'scan' | 'gradient' | null = null;
  /** The model and tokens [T] the figures are of. */
  private model = '';
  private ids: Int32Array | null = null;
  private readonly listeners: (() => void)[] = [];
  /** The last job number given: one sequence for the scan and the pruning, so a worker's cancel names one job. */
  private lastJob = 0;

  /** A new job number for the worker's importance or pruning request (and its cancel). */
  nextJob(): number {
    return ++this.lastJob;
  }

  /** Calls listener after every change (a new result, a clear, the overlay shown or hidden). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  setImportance(result: HeadImportance): void {
    this.adopt(result.model, result.ids);
    if (result.kind === 'gradient') this.gradient = result;
    else this.scan = result;
    this.shown = result.kind === 'gradient' ? 'gradient' : 'scan';
    this.changed();
  }

  setPruning(curves: PruningCurves): void {
    this.adopt(curves.model, curves.ids);
    this.pruning = curves;
    this.changed();
  }

  show(which: 'scan' | 'gradient' | null): void {
    this.shown = which;
    this.changed();
  }

  /** The result the overlay shows, if any. */
  shownResult(): HeadImportance | null {
    return this.shown === 'scan' ? this.scan : this.shown === 'gradient' ? this.gradient : null;
  }

  /** True when the figures (if any) are of this model and these tokens. */
  matches(model: string, ids: Int32Array): boolean {
    return model === this.model && this.ids !== null && sameIds(this.ids, ids);
  }

  /** Forgets everything when the model or tokens are not the figures' (returns true if it did). */
  clearUnless(model: string, ids: Int32Array | null): boolean {
    const empty = !this.scan && !this.gradient && !this.pruning;
    if (empty || (ids && this.matches(model, ids))) return false;
    this.scan = this.gradient = this.pruning = null;
    this.shown = null;
    this.ids = null;
    this.model = '';
    this.changed();
    return true;
  }

  /** A result of other tokens replaces everything before it. */
  private adopt(model: string, ids: Int32Array): void {
    if (this.matches(model, ids)) return;
    this.scan = this.gradient = this.pruning = null;
    this.model = model;
    this.ids = ids.slice();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The same token ids, in order. */
export function sameIds(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
