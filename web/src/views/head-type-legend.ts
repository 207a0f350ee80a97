/**
 * The head-type legend above the grid: one toggle per type (head-types.ts)
 * with how many heads of the shown pass have it, which dims every other head
 * of the grid (the grid's data-filter; head-grid.css), and the definitions
 * of docs/heads.md one click away in a details element.
 */
import type { ViewFactory } from '../app/view';
import type { HeadTypes } from '../engine/protocol';
import { HEAD_TYPE_ROWS, type HeadTypeName, headTypesOf } from './head-types';

class HeadTypeLegend {
  private readonly buttons = new Map<HeadTypeName, HTMLButtonElement>();
  /** The type the grid is filtered to, or null for every head. */
  private filter: HeadTypeName | null = null;

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
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button type-filter';
      button.dataset['type'] = row.type;
      button.setAttribute('aria-pressed', 'false');
      button.title = `Dim every head but the ${row.type.replace('_', '-')} heads: ${row.meaning}`;
      button.addEventListener('click', () => this.setFilter(this.filter === row.type ? null : row.type));
      this.buttons.set(row.type, button);
      legend.append(button);
    }
    this.renderDefinitions(definitions);
    this.setCounts(null);
  }

  /** "ind 3" on each button: the heads that pass that type in the shown pass. */
  setCounts(types: HeadTypes | null): void {
    const passed = types ? types.types.map((_, i) => headTypesOf(types, i)) : [];
    for (const row of HEAD_TYPE_ROWS) {
      const n = passed.filter((list) => list.includes(row.type)).length;
      const button = this.buttons.get(row.type)!;
      button.textContent = `${row.badge} ${n}`;
      button.setAttribute('aria-label', `${row.type.replace('_', '-')} heads: ${n}`);
    }
  }

  private setFilter(filter: HeadTypeName | null): void {
    this.filter = filter;
    for (const [type, button] of this.buttons) button.setAttribute('aria-pressed', String(type === filter));
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
