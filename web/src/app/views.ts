/**
 * The views registry: every view of the page, in drawing order. Adding a
 * view is one new file in src/views/ exporting a ViewFactory (app/view.ts)
 * and one line here.
 */
import { arithmeticView } from '../views/arithmetic';
import { compositionView } from '../views/composition';
import { answerFoilView } from '../views/answer-foil';
import { attributionView } from '../views/attribution';
import { compareView } from '../views/compare';
import { compareSizesView } from '../views/compare-sizes';
import { editsView } from '../views/edits';
import { exportView } from '../views/export';
import { headDetailView } from '../views/head-detail';
import { headGridView } from '../views/head-grid';
import { headTypeLegendView } from '../views/head-type-legend';
import { importanceView } from '../views/importance';
import { lensView } from '../views/lens';
import { patchingView } from '../views/patching';
import { predictionsView } from '../views/predictions';
import { runCompareView } from '../views/run-compare';
import { presetsView } from '../views/presets';
import { syntaxView } from '../views/syntax';
import { timelineView } from '../views/timeline';
import { tokensView } from '../views/tokens';
import { trainView } from '../views/train';
import { finetuneView } from '../views/finetune';
import type { Frame, View, ViewContext, ViewFactory } from './view';

export const VIEWS: readonly ViewFactory[] = [
  presetsView,
  headGridView,
  headTypeLegendView,
  importanceView,
  tokensView,
  predictionsView,
  headDetailView,
  editsView,
  exportView,
  syntaxView,
  arithmeticView,
  compositionView,
  answerFoilView,
  lensView,
  attributionView,
  compareView,
  patchingView,
  timelineView,
  compareSizesView,
  trainView,
  finetuneView,
  runCompareView,
];

/** The views made from VIEWS, drawn in turn from one frame. */
export class ViewSet {
  private readonly views: View[];
  /** ms each view took in the last 'analysis' frame, by label (for the timing line). */
  private readonly lastMs = new Map<string, number>();

  constructor(context: ViewContext) {
    this.views = VIEWS.map((make) => make(context));
  }

  draw(frame: Frame): void {
    const timed = frame.reason === 'analysis';
    for (const view of this.views) {
      const t0 = timed ? performance.now() : 0;
      view.draw(frame);
      if (timed) this.lastMs.set(view.label, performance.now() - t0);
    }
  }

  /** "(grid 3.1 ms for 32 heads)": the views that report what their last analysis frame did. */
  timingNotes(): string {
    const notes = this.views
      .filter((view) => view.timingNote)
      .map((view) => `${view.label} ${(this.lastMs.get(view.label) ?? 0).toFixed(1)} ms ${view.timingNote!()}`);
    return notes.length > 0 ? ` (${notes.join(', ')})` : '';
  }
}
