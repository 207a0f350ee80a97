/**
 * The head-type legend above the grid: one toggle per type (head-types.ts)
 * with how many heads of the shown pass have it, which dims every other head
 * of the grid (the grid's data-filter; head-types.css), and the definitions
 * of docs/heads.md one click away in a details element. Another view adds a
 * filter of its own with addLegendFilter (the syntax view's "syntactic
 * heads"): one click handler serves every toggle in the legend, so at most
 * one filter is on.
 */
import type { ViewFactory } from '../app/view';
import type { HeadTypes } from '../engine/protocol';
import { COPYING_ROW, HEAD_TYPE_ROWS, type HeadTypeName, headTypesOf } from './head-types';

/** A toggle of the legend: the grid's data-filter value, its words and its definition. */
export interface LegendFilterRow {
  /** data-filter of the grid when on; head-types.css (or the adding view's css) undims the matching cells. */
  filter: string;
  /** How the heads are called in the toggle's title and label, e.g. "previous-token". */
  name: string;
  meaning: string;
}

/** A toggle button for row, appended to the legend; the legend's click handler turns it on and off. */
export function addLegendFilter(legend: HTMLElement, row: LegendFilterRow): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button type-filter';
  button.dataset['type'] = row.filter;
  button.setAttribute('aria-pressed', 'false');
  button.title = `Dim every head but the ${row.name} heads: ${row.meaning}`;
  legend.append(button);
  return button;
}

/** "ind 3" on a toggle, and its label for screen readers. */
export function setLegendCount(button: HTMLButtonElement, badge: string, name: string, n: number | null): void {
  button.textContent = n === null ? `${badge} …` : `${badge} ${n}`;
  button.setAttribute('aria-label', `${name} heads: ${n === null ? 'not known yet' : n}`);
}

class HeadTypeLegend {
  private readonly buttons = new Map<HeadTypeName, HTMLButtonElement>();

  constructor(
    private readonly legend: HTMLElement,
    private readonly grid: HTMLElement,
    definitions: HTMLElement,
  ) {
    const label = document.createElement('span');
    label.className = 'type-legend-label';
    label.textContent = 'Show only:';
    legend.append(label);
    for (const row of HEAD_TYPE_ROWS) {
      const name = row.type.replace('_', '-');
      this.buttons.set(row.type, addLegendFilter(legend, { filter: row.type, name, meaning: row.meaning }));
    }
    // Every toggle, also those other views add later.
    legend.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button.type-filter');
      if (!button || !legend.contains(button)) return;
      const filter = button.dataset['type'] ?? null;
      this.setFilter(this.grid.dataset['filter'] === filter ? null : filter);
    });
    this.renderDefinitions(definitions);
    this.setCounts(null);
  }

  /** "ind 3" on each button: the heads that pass that type in the shown pass. */
  setCounts(types: HeadTypes | null): void {
    const passed = types ? types.types.map((_, i) => headTypesOf(types, i)) : [];
    for (const row of HEAD_TYPE_ROWS) {
      const n = passed.filter((list) => list.includes(row.type)).length;
      setLegendCount(this.buttons.get(row.type)!, row.badge, row.type.replace('_', '-'), n);
    }
  }

  /** The grid's data-filter is the one record of the filter on (null: every head shown). */
  private setFilter(filter: string | null): void {
    for (const button of this.legend.querySelectorAll<HTMLButtonElement>('button.type-filter'))
      button.setAttribute('aria-pressed', String(button.dataset['type'] === filter));
    if (filter) this.grid.dataset['filter'] = filter;
    else delete this.grid.dataset['filter'];
  }

  /** The table of docs/heads.md in words: badge, the score's definition, what a high score means. */
  private renderDefinitions(definitions: HTMLElement): void {
    const list = document.createElement('dl');
    for (const row of HEAD_TYPE_ROWS) {
      const term = document.createElement('dt');
      const badge = document.createElement('span');
      badge.className = 'head-badge is-inline';
      badge.textContent = row.badge;
      term.append(badge, ` ${row.type}`);
      const meaning = document.createElement('dd');
      meaning.textContent = `${row.meaning}. Score: ${row.definition}.`;
      list.append(term, meaning);
    }
    // The copying score: of the weights, not of a pattern; marks induction candidates.
    const term = document.createElement('dt');
    const badge = document.createElement('span');
    badge.className = 'head-badge is-inline';
    const mark = document.createElement('span');
    mark.className = 'badge-copy';
    mark.textContent = COPYING_ROW.badge;
    badge.append(mark);
    term.append(badge, ' copying');
    const meaning = document.createElement('dd');
    meaning.dataset['role'] = 'copying-definition';
    meaning.textContent =
      `${COPYING_ROW.meaning} (Olsson et al. 2022). Score: ${COPYING_ROW.definition}. ` +
      'It depends on the weights only, not on the text. The copy mark, in the square’s lower left corner, goes on an induction candidate (ind) with a positive score: ' +
      'it looks at the token after an earlier copy and copies it, the two halves of an induction head.';
    list.append(term, meaning);
    const rule = document.createElement('p');
    rule.textContent =
      'A is one head’s attention (row q: how the token at q spreads its attention over positions 0..q). ' +
      'A head gets a badge for each of prev, ind, dup and sink whose score reaches 0.4 (its type, the highest, first), ' +
      'else local when that does, else none. ' +
      'Scores are on the text shown, with the current edits; on texts of a few tokens local is high for every head.';
    definitions.append(list, rule);
  }
}

/** Registry entry (app/views.ts): the counts follow each analysis; the filter is the reader's. */
export const headTypeLegendView: ViewFactory = ({ root }) => {
  const find = (role: string) => root.querySelector<HTMLElement>(`[data-role="${role}"]`)!;
  const legend = new HeadTypeLegend(find('head-type-legend'), find('head-grid'), find('head-type-definitions'));
  return {
    label: 'types',
    draw({ reason, analysis }) {
      if (reason === 'analysis' && analysis) legend.setCounts(analysis.head_types);
    },
  };
};
