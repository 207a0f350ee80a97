/**
 * The reader's choices as the app holds them, derived from the URL-state
 * property table (url-state.ts), so a property added there reaches every
 * shape at once and each default is written once, in the table.
 *
 * The page holds the reader's choices under the `field` names of the table
 * (AppState in state/app-state.ts, AppSnapshot of the public API, the embed
 * code): `selectedHead` for the hash's `head`, and the URL's two edit lists
 * `muted` + `gains` as one list `edits`.
 */
import { type HeadEdit, joinEdits, splitEdits } from './heads';
import { defaultUrlState, ORDER, PROPERTIES, type UrlState } from './url-state';

type Table = typeof PROPERTIES;
/** The URL keys that are one choice each (all but muted and gains). */
type SingleKey = { [K in keyof UrlState]: Table[K]['field'] extends 'edits' ? never : K }[keyof UrlState];
const SINGLE_KEYS = ORDER.filter((key) => PROPERTIES[key].field !== 'edits') as SingleKey[];

/** The reader's choices: every property of the table, under its field name. */
export type Choices = { [K in SingleKey as Table[K]['field']]: UrlState[K] } & {
  /** Only heads whose gain is not 1, in (layer, head) order. */
  edits: HeadEdit[];
};
export type ChoiceField = keyof Choices;
/** The field names of the single-key properties, in the table's order. */
export const CHOICE_FIELDS = SINGLE_KEYS.map((key) => PROPERTIES[key].field) as Exclude<ChoiceField, 'edits'>[];

/** Choices some of which are not known (undefined or null: the table's default). */
export type PartialChoices = { [F in ChoiceField]?: Choices[F] | null | undefined };

/** A copy that shares no array or object with `value` (values are flat: heads, panel lists). */
export function copyChoice<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => copyChoice(item)) as T;
  if (typeof value === 'object' && value !== null) return { ...value };
  return value;
}

/** The URL state of some choices; what is not given is the table's default. */
export function urlStateOf(choices: PartialChoices): UrlState {
  const url = defaultUrlState();
  const target = url as unknown as Record<SingleKey, unknown>;
  for (const key of SINGLE_KEYS) {
    const value = choices[PROPERTIES[key].field];
    if (value !== undefined && value !== null) target[key] = copyChoice(value);
  }
  Object.assign(url, splitEdits(choices.edits ?? []));
  return url;
}

/** The choices a URL state holds. */
export function choicesOf(url: UrlState): Choices {
  const choices = {} as Record<ChoiceField, unknown>;
  for (const key of SINGLE_KEYS) choices[PROPERTIES[key].field] = copyChoice(url[key]);
  choices.edits = joinEdits(url.muted, url.gains);
  return choices as Choices;
}

/** Every choice at its default (the one place defaults are written is the table). */
export function defaultChoices(): Choices {
  return choicesOf(defaultUrlState());
}
