// The page's state shapes come from the URL-state property table: the
// choices (AppState, AppSnapshot, the embed code) carry every property of
// the table, with the table's defaults, and survive the trip to the hash and
// back. Regression: source=mean (attention averaged over heads) was dropped
// by the copy-embed code and by the embed mode's "Open in Headlight" link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const url = await importTs('web/src/state/url-state.ts');
const choices = await importTs('web/src/state/choices.ts');
const appState = await importTs('web/src/state/app-state.ts');
const heads = await importTs('web/src/state/heads.ts');
const position = await importTs('web/src/state/position.ts');
const code = await importTs('web/src/embed/embed-code.ts');
const mode = await importTs('web/src/embed/embed-mode.ts');

// Every property away from its default, read from a link.
const CHANGED = url.parseHash(
  '#model=gpt-4l&text=The+cat+sat+on+the+mat.&muted=0.5&gain=2.1:0.5&head=2.1&pos=3' +
    '&view=lines&color=attention&source=mean&hide=edits&embed=1' +
    '&answer=+mat&foil=+hat&corrupt=The+dog+sat+on+the+mat.&patch=1.2,0.1',
).state;

function snapshotOf(choiceValues) {
  return { ...choiceValues, n_layer: 4, n_head: 8 };
}

test('choices: every table property has one field, the defaults are the table\'s', () => {
  const defaults = choices.defaultChoices();
  const fields = Object.keys(defaults).sort();
  console.log(`  fields: ${fields.join(', ')}`);
  assert.deepEqual(fields, [...choices.CHOICE_FIELDS, 'edits'].sort());
  assert.equal(Object.keys(CHANGED).length, url.PROPERTY_NAMES.length, 'the test changes every property');
  assert.deepEqual(choices.urlStateOf(defaults), url.defaultUrlState(), 'default choices = default URL state');
  const state = appState.createState();
  for (const field of choices.CHOICE_FIELDS) {
    if (field !== 'model') assert.deepEqual(state[field], defaults[field], `AppState.${field} starts at the table's default`);
  }
  assert.equal(state.text, url.DEFAULT_TEXT);
});

test('choices: URL state -> choices -> URL state is the identity, property by property', () => {
  let checked = 0;
  for (const [key, value] of Object.entries(CHANGED)) {
    const state = { ...url.defaultUrlState(), [key]: value };
    assert.deepEqual(choices.urlStateOf(choices.choicesOf(state)), state, key);
    checked++;
  }
  const all = { ...url.defaultUrlState(), ...CHANGED };
  assert.deepEqual(choices.urlStateOf(choices.choicesOf(all)), all, 'all at once');
  console.log(`  ${checked} properties and all of them at once round-trip`);
});

test('the page snapshot carries every choice, source included', () => {
  const state = appState.createState();
  const all = { ...url.defaultUrlState(), ...CHANGED };
  appState.applyChoices(state, choices.choicesOf(all));
  const snapshot = appState.choicesOfState(state, { muted: all.muted, gains: all.gains });
  console.log(`  snapshot: ${JSON.stringify(snapshot)}`);
  assert.equal(snapshot.source, 'mean');
  assert.equal(snapshot.colorMode, 'attention');
  assert.deepEqual(snapshot.selectedHead, { layer: 2, head: 1 });
  assert.deepEqual(snapshot.edits, [{ layer: 0, head: 5, gain: 0 }, { layer: 2, head: 1, gain: 0.5 }]);
  assert.deepEqual(choices.urlStateOf(snapshot), { ...all, model: null }, 'no model loaded: the URL names none');
});

test('source=mean survives the copy-embed snippets and the "Open in Headlight" link', () => {
  const snapshot = snapshotOf({
    ...choices.defaultChoices(),
    model: 'gpt-4l',
    text: 'Hello',
    selectedHead: { layer: 2, head: 1 },
    colorMode: 'attention',
    source: 'mean',
  });
  const snippets = code.embedSnippets(snapshot, 'https://example.org/headlight/index.html');
  const fromIframe = url.parseHash(new URL(snippets.iframeUrl).hash);
  const link = mode.fullPageUrl({ ...snapshot, embed: true }, 'https://example.org/headlight/index.html?embed=1#source=mean');
  const fromLink = url.parseHash(new URL(link).hash);
  console.log(`  iframe: ${snippets.iframeUrl}\n  full page: ${link}`);
  assert.deepEqual(fromIframe.problems, []);
  assert.equal(fromIframe.state.source, 'mean', 'the iframe snippet keeps source=mean');
  assert.equal(fromIframe.state.color, 'attention');
  assert.deepEqual(fromLink.problems, []);
  assert.equal(fromLink.state.source, 'mean', 'the Open in Headlight link keeps source=mean');
  assert.equal(fromLink.state.embed, false, 'the full page is not the embed mode');
  assert.ok(!new URL(link).searchParams.has('embed'));
});

test('one splitEdits, one headName, one formatGain, one position clamp', () => {
  const edits = [
    { layer: 1, head: 0, gain: 0 },
    { layer: 0, head: 3, gain: 1 },
    { layer: 0, head: 2, gain: 1.5 },
  ];
  const split = heads.splitEdits(edits);
  assert.deepEqual(split, { muted: [{ layer: 1, head: 0 }], gains: [{ layer: 0, head: 2, gain: 1.5 }] }, 'gain 1 is no edit');
  assert.deepEqual(heads.joinEdits(split.muted, split.gains), [{ layer: 0, head: 2, gain: 1.5 }, { layer: 1, head: 0, gain: 0 }]);
  assert.equal(heads.headName({ layer: 2, head: 1 }), '2.1');
  assert.equal(heads.formatGain(Math.fround(0.1)), '0.1');
  const cases = [[-1, 5, 4], [0, 5, 0], [4, 5, 4], [5, 5, 4], [99, 5, 4], [-1, 0, -1]];
  for (const [p, T, want] of cases) assert.equal(position.clampPosition(p, T), want, `clamp(${p}, T=${T})`);
  console.log(`  split ${edits.length} edits -> ${split.muted.length} muted, ${split.gains.length} gains; ${cases.length} clamp cases`);
});

test('views registry: every ViewFactory in src/views/ is registered once, and nothing else', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const dir = new URL('../../web/src/views/', import.meta.url);
  const factories = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const match of readFileSync(new URL(file, dir), 'utf8').matchAll(/^export const (\w+): ViewFactory\b/gm)) {
      factories.push(match[1]);
    }
  }
  const registry = readFileSync(new URL('../../web/src/app/views.ts', import.meta.url), 'utf8');
  const list = /export const VIEWS: readonly ViewFactory\[\] = \[([^\]]*)\]/.exec(registry)?.[1] ?? '';
  const registered = list.split(',').map((s) => s.trim()).filter(Boolean);
  console.log(`  ${factories.length} view factories in src/views/, ${registered.length} registered: ${registered.join(', ')}`);
  assert.deepEqual([...registered].sort(), [...factories].sort());
  assert.equal(new Set(registered).size, registered.length, 'each once');
});
