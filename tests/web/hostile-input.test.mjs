// Hostile input to the page's pure parsers (issue 19, defects 4-7): a lone
// UTF-16 surrogate, a circular or huge postMessage payload, model names that
// climb out of models/, and megabyte values in a hash. Each gets a bounded,
// named answer; nothing throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const url = await importTs('web/src/state/url-state.ts');
const messages = await importTs('web/src/embed/host-messages.ts');
const attributes = await importTs('web/src/embed/attributes.ts');
const plan = await importTs('web/src/embed/embed-plan.ts');
const { parseHash, serialiseHash, defaultUrlState, MAX_LINK_TEXT, MAX_QUOTED } = url;

test('defect 4: a lone surrogate never makes the link throw; it becomes U+FFFD and is said', () => {
  for (const text of ['a \ud800 b', 'a \udc00 b', 'end \ud83d', '\udfff start', 'pair 😀 ok \ud800\ud800']) {
    const state = { ...defaultUrlState(), text };
    const hash = serialiseHash(state); // threw URIError before
    const back = parseHash(hash);
    assert.deepEqual(back.problems, []);
    assert.equal(back.state.text, url.wellFormed(text));
    assert.equal(url.countLoneSurrogates(back.state.text), 0);
    const note = url.linkTextNote(url.linkTextOf(text));
    assert.match(note, /lone UTF-16 surrogate.*U\+FFFD|\uFFFD/);
    console.log(`lone surrogates in ${JSON.stringify(text)}: ${url.countLoneSurrogates(text)}, note: ${note}`);
  }
  // A well-formed pair is kept as it is, and no note is made.
  assert.equal(url.linkTextNote(url.linkTextOf('pair 😀')), null);
  assert.equal(parseHash(serialiseHash({ ...defaultUrlState(), text: 'pair 😀' })).state.text, 'pair 😀');
  // The host's set-text is answered with the problem named.
  const parsed = messages.parseHostMessage({ type: 'headlight:set-text', text: 'a \ud800 b' });
  assert.equal(parsed.ignored, false);
  assert.match(parsed.error, /^headlight:set-text: text has 1 lone UTF-16 surrogate/);
});

test('defect 5: bad values are described bounded and cycle-safe, never serialised whole', () => {
  const circular = { layer: 'x' };
  circular.self = circular;
  const deep = [];
  let cursor = deep;
  for (let i = 0; i < 100000; i += 1) cursor = cursor[0] = [];
  const huge = 'x'.repeat(4 << 20);
  const manyKeys = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
  const payloads = [
    { type: 'headlight:set-edits', muted: [circular] },
    { type: 'headlight:set-edits', muted: [deep] },
    { type: 'headlight:set-edits', muted: [huge] },
    { type: 'headlight:set-edits', muted: [manyKeys] },
    { type: 'headlight:set-edits', gains: { '1.2': circular } },
    { type: 'headlight:set-edits', gains: { [huge]: 1 } },
    { type: 'headlight:set-display', view: circular },
    { type: 'headlight:set-display', hide: [circular] },
    { type: 'headlight:set-model', model: circular },
  ];
  let longest = 0;
  for (const data of payloads) {
    const parsed = messages.parseHostMessage(data);
    assert.equal(parsed.ignored, false);
    assert.ok(typeof parsed.error === 'string' && parsed.error.startsWith(data.type), parsed.error);
    assert.ok(parsed.error.length < 400, `error of ${parsed.error.length} characters`);
    longest = Math.max(longest, parsed.error.length);
  }
  console.log(`${payloads.length} hostile set-edits/display/model payloads answered; longest error ${longest} characters`);
  assert.match(messages.parseHostMessage(payloads[0]).error, /an object with keys "layer", "self"/);
  assert.match(messages.describe(huge), new RegExp(`^"x{${MAX_QUOTED}}…" \\(${4 << 20} characters\\)$`));
  assert.match(messages.describe(manyKeys), /, … \(1000 keys\)$/);
  assert.equal(messages.describe(deep), 'an array of 1 item');
});

test("defect 6: '..', '.', '/' and leading dots are not model names anywhere", () => {
  const bad = ['..', '.', '...', 'a..b', '../x', 'a/b', '.hidden', '', 'x'.repeat(65), 'a b'];
  for (const name of bad) {
    assert.equal(url.isModelName(name), false, name);
    const fromHash = parseHash(`#model=${encodeURIComponent(name)}`);
    assert.equal(fromHash.state.model, null, `hash model=${name} ignored`);
    if (name !== '') assert.match(fromHash.problems.join(), /is not a model name/);
    const message = messages.parseHostMessage({ type: 'headlight:set-model', model: name });
    assert.match(message.error, /^headlight:set-model: model must be a model name/);
    const fromAttribute = attributes.parseAttributes({ model: name }, 'https://example.org/embed/headlight-explorer.js');
    assert.equal(fromAttribute.options.model ?? null, null, `attribute model=${name} ignored`);
  }
  for (const name of ['gpt-4l', 'gpt_2.small', 'a', 'v1.0-b']) assert.equal(url.isModelName(name), true, name);
  console.log(`${bad.length} bad model names refused by the hash, the host messages and the attributes`);
});

test('defect 7: a notice quotes at most MAX_QUOTED characters of a value', () => {
  const huge = 'x'.repeat(4 << 20);
  const cases = ['pos', 'head', 'muted', 'gain', 'view', 'color', 'source', 'hide', 'embed', 'model'];
  let longest = 0;
  for (const name of cases) {
    const parsed = parseHash(`#${name}=${huge}`);
    assert.equal(parsed.problems.length, 1, name);
    const [problem] = parsed.problems;
    assert.ok(problem.length < 400, `${name}: a notice of ${problem.length} characters`);
    assert.match(problem, new RegExp(`\\(${huge.length} characters\\)`), problem);
    longest = Math.max(longest, problem.length);
  }
  const unknown = parseHash(`#${huge}=1`).problems[0];
  assert.ok(unknown.length < 200, unknown);
  console.log(`4 MB values in ${cases.length} settings: longest notice line ${longest} characters`);
});

test('defect 7: a link carries at most MAX_LINK_TEXT characters of text, and says so', () => {
  const cjk = '漢'.repeat(1 << 20);
  const hash = serialiseHash({ ...defaultUrlState(), text: cjk });
  const back = parseHash(hash).state.text;
  assert.equal(back, cjk.slice(0, MAX_LINK_TEXT));
  assert.ok(hash.length < 10 * MAX_LINK_TEXT, `hash of ${hash.length} characters`);
  const note = url.linkTextNote(url.linkTextOf(cjk));
  assert.equal(note, `the link carries the first ${MAX_LINK_TEXT} characters of the text (of ${cjk.length})`);
  // The cut never leaves half a surrogate pair.
  const emoji = '😀'.repeat(MAX_LINK_TEXT);
  const carried = url.linkTextOf(emoji).text;
  assert.equal(url.countLoneSurrogates(carried), 0);
  assert.equal(carried.length, MAX_LINK_TEXT);
  const odd = `a${emoji}`;
  assert.equal(url.countLoneSurrogates(url.linkTextOf(odd).text), 0);
  assert.equal(url.linkTextOf(odd).text.length, MAX_LINK_TEXT - 1);
  // Text of exactly MAX_LINK_TEXT characters is carried whole, with no note.
  assert.equal(url.linkTextNote(url.linkTextOf('a'.repeat(MAX_LINK_TEXT))), null);
  // The embed dialog says so above both snippets, and the element carries the cut text.
  const state = {
    model: 'gpt-4l', text: cjk, edits: [], selectedHead: { layer: 0, head: 0 }, selectedPosition: -1,
    view: 'heatmap', colorMode: 'loss', source: 'head', hidden: [], embed: false, n_layer: 4, n_head: 4,
  };
  const offer = plan.embedPlan(state, { pageUrl: 'https://example.org/headlight/', singleFile: false, servedModels: new Set(['gpt-4l']) });
  assert.deepEqual(offer.note, [`In both snippets, as in this page's address, ${note}.`]);
  assert.ok(offer.element.length < 6 * MAX_LINK_TEXT, `element snippet of ${offer.element.length} characters`);
  assert.ok(offer.iframe.length < 10 * MAX_LINK_TEXT, `iframe snippet of ${offer.iframe.length} characters`);
  console.log(`1 MB of CJK (${cjk.length} characters): hash ${hash.length} characters, element ${offer.element.length}, iframe ${offer.iframe.length}`);
});
