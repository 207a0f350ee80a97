// Unit tests of the embedding rules (web/src/embed/): the attributes of
// <headlight-explorer>, the postMessage validation, and the embed snippets.
// Each test prints what it checked.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { importTs } from './ts-import.mjs';

const SCRIPT_URL = 'https://example.org/notes/headlight/embed/headlight-explorer.js';
const DOCUMENT_URL = 'https://example.org/notes/lesson-3.html';

let attributes;
let messages;
let code;
let embedUrl;
let urlState;
let changes;
let plan;

before(async () => {
  changes = await importTs('web/src/embed/attribute-messages.ts');
  plan = await importTs('web/src/embed/embed-plan.ts');
  attributes = await importTs('web/src/embed/attributes.ts');
  messages = await importTs('web/src/embed/host-messages.ts');
  code = await importTs('web/src/embed/embed-code.ts');
  embedUrl = await importTs('web/src/embed/embed-url.ts');
  urlState = await importTs('web/src/state/url-state.ts');
});

function parse(attrs) {
  return attributes.parseAttributes(attrs, SCRIPT_URL, DOCUMENT_URL);
}

test('attributes: the documented example parses', () => {
  const { options, problems } = parse({
    model: 'gpt-4l',
    text: 'The cat sat on the mat',
    muted: '1.3,0.5',
    gains: '2.1:1.5, 3.0:0.25',
    head: '1.3',
    hide: 'edits, picker',
    height: '480',
  });
  assert.deepEqual(problems, []);
  assert.equal(options.model, 'gpt-4l');
  assert.equal(options.text, 'The cat sat on the mat');
  assert.deepEqual(options.edits, [
    { layer: 0, head: 5, gain: 0 },
    { layer: 1, head: 3, gain: 0 },
    { layer: 2, head: 1, gain: 1.5 },
    { layer: 3, head: 0, gain: 0.25 },
  ]);
  assert.deepEqual(options.selectedHead, { layer: 1, head: 3 });
  // Panels come back in the table's order, whatever the attribute's order.
  assert.deepEqual(options.hidden, ['picker', 'edits']);
  assert.equal(options.height, '480px');
  assert.equal(options.base, 'https://example.org/notes/headlight/');
  console.log(
    `  4 edits, head 1.3, hide ${options.hidden}, height ${options.height}, base ${options.base}`,
  );
});

test('attributes: none at all gives the defaults and no problem', () => {
  const { options, problems } = parse({});
  assert.deepEqual(problems, []);
  assert.deepEqual(options, {
    model: null,
    text: null,
    edits: [],
    selectedHead: null,
    selectedPosition: null,
    view: null,
    colorMode: null,
    source: null,
    hidden: [],
    height: attributes.DEFAULT_HEIGHT,
    base: 'https://example.org/notes/headlight/',
  });
  assert.equal(attributes.DEFAULT_HEIGHT, 'auto', 'with no height, the element fits its content');
});

test('attributes: pos, view, color and source read as the URL reads them', () => {
  const { options, problems } = parse({ pos: '4', view: 'lines', color: 'attention', source: 'mean' });
  assert.deepEqual(problems, []);
  assert.equal(options.selectedPosition, 4);
  assert.equal(options.view, 'lines');
  assert.equal(options.colorMode, 'attention');
  assert.equal(options.source, 'mean');
  const bad = parse({ pos: 'last', view: 'table', color: 'red', source: 'all' });
  console.log(`  4 good values; bad ones named: ${bad.problems.join(' | ')}`);
  assert.equal(bad.problems.length, 4);
  assert.match(bad.problems[0], /^pos: "last" is not a token position/);
  assert.match(bad.problems[1], /^view: "table" is not one of heatmap, lines/);
  assert.match(bad.problems[2], /^color: "red" is not one of loss, attention/);
  assert.match(bad.problems[3], /^source: "all" is not one of head, mean/);
  assert.equal(bad.options.selectedPosition, null);
  assert.equal(bad.options.view, null);
});

test('attribute changes: only what changed becomes messages, in order', () => {
  const before = parse({ text: 'The cat sat', muted: '1.3', pos: '2' }).options;
  const change = (attrs) => changes.messagesForChange(before, parse(attrs).options);
  // Only muted changed: no set-text, so a text sent with send() stays.
  assert.deepEqual(change({ text: 'The cat sat', muted: '0.1', gains: '2.1:1.5', pos: '2' }), [
    { type: 'headlight:set-edits', muted: ['0.1'], gains: { '2.1': 1.5 } },
  ]);
  // Removed attributes go back to the page's defaults, as a missing URL key does.
  assert.deepEqual(change({ muted: '1.3' }), [
    { type: 'headlight:set-text', text: urlState.DEFAULT_TEXT },
    { type: 'headlight:select-position', position: -1 },
  ]);
  assert.deepEqual(change({ text: 'The cat sat', muted: '1.3', pos: '2', view: 'lines', hide: 'edits' }), [
    { type: 'headlight:set-display', view: 'lines', hide: ['edits'] },
  ]);
  // A new model resets the edits in the page: the attributes' edits follow it.
  const modelChange = change({ model: 'gpt-6l', text: 'The cat sat', muted: '1.3', pos: '2' });
  assert.deepEqual(modelChange.map((m) => m.type), ['headlight:set-model', 'headlight:set-edits']);
  // Height and base are the element's own: no message.
  assert.deepEqual(change({ text: 'The cat sat', muted: '1.3', pos: '2', height: '500' }), []);
  // Every message the element makes is one the page accepts.
  for (const message of [...modelChange, ...change({ view: 'lines', color: 'attention', source: 'mean' })]) {
    const parsed = messages.parseHostMessage(message);
    assert.ok(!parsed.ignored && !('error' in parsed), `${JSON.stringify(message)} is accepted`);
  }
  console.log(`  model change -> ${modelChange.map((m) => m.type).join(', ')}`);
});

test('attributes: each bad value is named, dropped, and never throws', () => {
  const cases = [
    [{ model: '../../etc' }, /model="..\/..\/etc": a model name has only/],
    [{ model: 'gpt 4l' }, /model="gpt 4l"/],
    [{ text: '   ' }, /text is empty/],
    [{ text: 'x'.repeat(attributes.MAX_TEXT_LENGTH + 1) }, /too long/],
    [{ muted: '1.3,banana' }, /muted: "banana" is not "layer.head"/],
    [{ muted: '1.-3' }, /muted: "1.-3"/],
    [{ muted: '1000.0' }, /out of range/],
    [{ gains: '1.3' }, /gains: "1.3" is not "layer.head:gain"/],
    [{ gains: '1.3:5' }, /gain in "1.3:5" must be a number from 0 to 2/],
    [{ gains: '1.3:-1' }, /must be a number from 0 to 2/],
    [{ gains: '1.3:NaN' }, /must be a number from 0 to 2/],
    [{ gains: '1.3:1e0' }, /must be a number from 0 to 2/],
    [{ gains: '1.3:0.5:2' }, /not "layer.head:gain"/],
    [{ muted: '1.3', gains: '1.3:0.5' }, /head 1.3 is also in muted; it stays muted/],
    [{ head: 'first' }, /head: "first"/],
    [{ hide: 'grid' }, /hide: "grid" is not a panel/],
    [{ height: 'tall' }, /height="tall"/],
    [{ height: '0' }, /height="0"/],
    [{ height: '100%' }, /height="100%"/],
    [{ base: 'javascript:alert(1)' }, /only http:, https: and file:/],
    [{ base: 'http://[::1' }, /is not a URL/],
  ];
  for (const [attrs, expected] of cases) {
    const { options, problems } = parse(attrs);
    assert.equal(problems.length, 1, `${JSON.stringify(attrs)} gives one problem: ${problems}`);
    assert.match(problems[0], expected);
    // The rest still works: the defaults stand in for the bad value.
    assert.equal(typeof options.base, 'string');
    assert.ok(options.base.startsWith('https://') || options.base.startsWith('http://'));
  }
  // Good parts of a half-bad list are kept.
  const { options } = parse({ muted: '0.1, x, 2.2' });
  assert.deepEqual(
    options.edits.map((e) => `${e.layer}.${e.head}`),
    ['0.1', '2.2'],
  );
  console.log(
    `  ${cases.length} bad attributes, each one clear message; e.g. "${parse({ gains: '1.3:5' }).problems[0]}"`,
  );
});

test('attributes: base is a folder, relative to the host page', () => {
  const base = (value) => parse({ base: value }).options.base;
  assert.equal(base('/tools/headlight'), 'https://example.org/tools/headlight/');
  assert.equal(base('headlight/'), 'https://example.org/notes/headlight/');
  assert.equal(base('https://cdn.example.net/h/index.html?x=1#y'), 'https://cdn.example.net/h/');
  // Hostile text in an attribute is only ever data.
  const hostile = parse({ text: '<img src=x onerror=alert(1)>' });
  assert.equal(hostile.options.text, '<img src=x onerror=alert(1)>');
});

test('embed URL: attributes become the page hash the page itself reads back', () => {
  const { options } = parse({
    model: 'gpt-4l',
    text: 'A + B = C & D',
    muted: '1.3,0.5',
    gains: '2.1:1.5',
    head: '1.3',
    hide: 'edits',
  });
  const url = embedUrl.embedPageUrl(options, options.base);
  assert.ok(url.startsWith('https://example.org/notes/headlight/index.html?embed=1#'), url);
  const parsed = urlState.parseHash(new URL(url).hash);
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.state.model, 'gpt-4l');
  assert.equal(parsed.state.text, 'A + B = C & D');
  assert.deepEqual(parsed.state.muted, [
    { layer: 0, head: 5 },
    { layer: 1, head: 3 },
  ]);
  assert.deepEqual(parsed.state.gains, [{ layer: 2, head: 1, gain: 1.5 }]);
  assert.deepEqual(parsed.state.head, { layer: 1, head: 3 });
  assert.deepEqual(parsed.state.hide, ['edits']);
  console.log(`  ${url}`);
});

test('messages: valid commands', () => {
  const ok = (data) => {
    const parsed = messages.parseHostMessage(data);
    assert.equal(parsed.ignored, false, JSON.stringify(data));
    assert.ok(!('error' in parsed), `${JSON.stringify(data)}: ${parsed.error}`);
    return parsed.command;
  };
  assert.deepEqual(ok({ type: 'headlight:set-text', text: 'Hello' }), {
    kind: 'set-text',
    text: 'Hello',
  });
  assert.deepEqual(
    ok({
      type: 'headlight:set-edits',
      muted: ['1.3', [0, 5], { layer: 2, head: 0 }],
      gains: { 3.1: 1.5 },
    }),
    {
      kind: 'set-edits',
      edits: [
        { layer: 0, head: 5, gain: 0 },
        { layer: 1, head: 3, gain: 0 },
        { layer: 2, head: 0, gain: 0 },
        { layer: 3, head: 1, gain: 1.5 },
      ],
    },
  );
  assert.deepEqual(ok({ type: 'headlight:set-edits' }), { kind: 'set-edits', edits: [] });
  assert.deepEqual(ok({ type: 'headlight:select-head', layer: 1, head: 2 }), {
    kind: 'select-head',
    head: { layer: 1, head: 2 },
  });
  assert.deepEqual(ok({ type: 'headlight:set-model', model: 'gpt-6l' }), {
    kind: 'set-model',
    model: 'gpt-6l',
  });
  assert.deepEqual(ok({ type: 'headlight:reset' }), { kind: 'reset' });
  assert.deepEqual(ok({ type: 'headlight:get-state' }), { kind: 'get-state' });
});

test('messages: select-position and set-display, checked as the URL checks them', () => {
  const ok = (data) => messages.parseHostMessage(data);
  assert.deepEqual(ok({ type: 'headlight:select-position', position: 3 }).command, {
    kind: 'select-position',
    position: 3,
  });
  assert.equal(ok({ type: 'headlight:select-position', position: -1 }).command.position, -1);
  assert.deepEqual(
    ok({ type: 'headlight:set-display', view: 'lines', color: 'attention', source: 'mean', hide: ['footer', 'edits'] })
      .command,
    { kind: 'set-display', display: { view: 'lines', colorMode: 'attention', source: 'mean', hidden: ['edits', 'footer'] } },
  );
  const errors = [
    [{ type: 'headlight:select-position', position: 1.5 }, /position must be a whole number/],
    [{ type: 'headlight:select-position', position: -2 }, /position must be a whole number/],
    [{ type: 'headlight:set-display', view: 'table' }, /view: "table" is not one of heatmap, lines/],
    [{ type: 'headlight:set-display', color: 3 }, /color: 3 is not a string/],
    [{ type: 'headlight:set-display', hide: ['grid'] }, /hide: "grid" is not a panel/],
    [{ type: 'headlight:set-display' }, /at least one of view, color, source, hide/],
  ];
  for (const [data, expected] of errors) assert.match(ok(data).error, expected);
  console.log(`  ${errors.length} bad payloads answered, e.g. "${ok(errors[2][0]).error}"`);
});

test('messages: foreign and unknown messages are ignored, bad payloads answered', () => {
  for (const data of [
    null,
    42,
    'headlight:reset',
    [],
    {},
    { type: 7 },
    { type: 'webpackOk' },
    { type: 'headlight:dance' },
  ]) {
    assert.deepEqual(messages.parseHostMessage(data), { ignored: true }, JSON.stringify(data));
  }
  const bad = [
    [{ type: 'headlight:set-text' }, /text must be a string/],
    [{ type: 'headlight:set-text', text: '' }, /text is empty/],
    [{ type: 'headlight:set-text', text: { toString: 1 } }, /text must be a string/],
    [{ type: 'headlight:set-edits', muted: '1.3' }, /muted must be an array/],
    [{ type: 'headlight:set-edits', muted: ['x'] }, /muted: "x" is not a head/],
    [{ type: 'headlight:set-edits', muted: [[1, -1]] }, /is not a head/],
    [{ type: 'headlight:set-edits', muted: [{ layer: 1.5, head: 0 }] }, /is not a head/],
    [{ type: 'headlight:set-edits', gains: [] }, /gains must be an object/],
    [
      { type: 'headlight:set-edits', gains: { 1.3: 3 } },
      /gain of head 1.3 must be a number from 0 to 2, got 3/,
    ],
    [{ type: 'headlight:set-edits', gains: { 1.3: '0.5' } }, /must be a number/],
    [{ type: 'headlight:set-edits', gains: { head: 1 } }, /key "head" is not "layer.head"/],
    [
      { type: 'headlight:set-edits', muted: ['1.3'], gains: { 1.3: 0.5 } },
      /both muted and given gain/,
    ],
    [{ type: 'headlight:select-head', layer: '1', head: 2 }, /whole numbers/],
    [{ type: 'headlight:select-head', layer: 1 }, /whole numbers/],
    [{ type: 'headlight:set-model', model: '../x' }, /model must be a model name/],
  ];
  for (const [data, expected] of bad) {
    const parsed = messages.parseHostMessage(data);
    assert.equal(parsed.ignored, false);
    assert.match(parsed.error, expected);
    assert.ok(parsed.error.startsWith(`${data.type}: `), parsed.error);
    assert.equal(parsed.request, data.type);
  }
  console.log(
    `  8 foreign or unknown messages ignored; ${bad.length} bad payloads answered, e.g. "${messages.parseHostMessage(bad[8][0]).error}"`,
  );
});

test('messages: heads outside the loaded model are named', () => {
  assert.equal(messages.headsOutside([{ layer: 3, head: 7 }], 'gpt-4l', 4, 8), null);
  assert.equal(
    messages.headsOutside(
      [
        { layer: 4, head: 0 },
        { layer: 1, head: 9 },
        { layer: 0, head: 0 },
      ],
      'gpt-4l',
      4,
      8,
    ),
    'heads 4.0, 1.9 are outside gpt-4l (4 layers x 8 heads)',
  );
});

function snapshot(overrides = {}) {
  return {
    model: 'gpt-4l',
    n_layer: 4,
    n_head: 8,
    text: 'She said "hi" & <b>left</b>',
    edits: [],
    selectedHead: { layer: 0, head: 0 },
    selectedPosition: -1,
    view: 'heatmap',
    colorMode: 'loss',
    source: 'head',
    hidden: [],
    embed: false,
    ...overrides,
  };
}

test('snippets: both carry the state, escaped, and the element reads its own snippet back', () => {
  const state = snapshot({
    edits: [
      { layer: 0, head: 5, gain: 0 },
      { layer: 1, head: 3, gain: 0 },
      { layer: 2, head: 1, gain: 1.5 },
    ],
    selectedHead: { layer: 1, head: 3 },
    selectedPosition: 4,
    view: 'lines',
    hidden: ['edits'],
  });
  const snippets = code.embedSnippets(
    state,
    'https://example.org/tools/headlight/index.html#model=gpt-4l',
  );
  console.log(
    `  element snippet:\n${snippets.element.replace(/^/gm, '    ')}\n  iframe snippet:\n${snippets.iframe.replace(/^/gm, '    ')}`,
  );
  // A classic script: a module from another origin would need CORS headers.
  assert.match(
    snippets.element,
    /^<script src="https:\/\/example.org\/tools\/headlight\/embed\/headlight-explorer.js"><\/script>\n<headlight-explorer\n/,
  );
  assert.ok(
    snippets.element.includes('text="She said &quot;hi&quot; &amp; &lt;b&gt;left&lt;/b&gt;"'),
    'text is escaped',
  );
  assert.ok(
    !/<b>/.test(snippets.element) && !/<b>/.test(snippets.iframe),
    'no raw markup from the text',
  );

  // The element's attributes, read back as a browser would, give the same state.
  const attrs = {};
  for (const match of snippets.element.matchAll(/^ {2}(\w+)="([^"]*)"$/gm)) {
    attrs[match[1]] = match[2]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
  }
  const { options, problems } = attributes.parseAttributes(
    attrs,
    'https://example.org/tools/headlight/embed/headlight-explorer.js',
    DOCUMENT_URL,
  );
  assert.deepEqual(problems, []);
  assert.equal(options.text, state.text);
  assert.equal(options.model, 'gpt-4l');
  assert.deepEqual(options.edits, state.edits);
  assert.deepEqual(options.selectedHead, state.selectedHead);
  assert.equal(options.selectedPosition, 4, 'the element carries pos too');
  assert.equal(options.view, 'lines');
  assert.deepEqual(options.hidden, ['edits']);
  assert.equal(options.base, 'https://example.org/tools/headlight/');
  // Element and iframe: the same page URL, so the same state.
  assert.equal(embedUrl.embedPageUrl(options, options.base), snippets.iframeUrl);

  // The iframe URL holds the whole state, position and view included.
  assert.ok(
    snippets.iframeUrl.startsWith('https://example.org/tools/headlight/index.html?embed=1#'),
  );
  const parsed = urlState.parseHash(new URL(snippets.iframeUrl).hash);
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.state.text, state.text);
  assert.deepEqual(parsed.state.muted, [
    { layer: 0, head: 5 },
    { layer: 1, head: 3 },
  ]);
  assert.deepEqual(parsed.state.gains, [{ layer: 2, head: 1, gain: 1.5 }]);
  assert.equal(parsed.state.pos, 4);
  assert.equal(parsed.state.view, 'lines');
  assert.ok(snippets.iframe.includes(`src="${code.escapeAttribute(snippets.iframeUrl)}"`));
});

test('snippets: an unedited state gives a short element', () => {
  const { element } = code.embedSnippets(snapshot({ text: 'Hello' }), 'http://localhost:8080/');
  assert.equal(
    element,
    '<script src="http://localhost:8080/embed/headlight-explorer.js"></script>\n' +
      '<headlight-explorer\n  model="gpt-4l"\n  text="Hello"\n></headlight-explorer>',
  );
});

test('embed plan: a snippet only where it can work, else a plain sentence', () => {
  const served = new Set(['gpt-4l']);
  const where = (pageUrl, extra = {}) => ({ pageUrl, singleFile: false, servedModels: served, ...extra });
  const hosted = plan.embedPlan(snapshot({}), where('https://example.org/headlight/'));
  assert.ok(hosted.element && hosted.iframe && hosted.note === null, 'hosted, served model: both');
  const local = plan.embedPlan(snapshot({ model: 'gpt2rand (your files)' }), where('https://example.org/headlight/'));
  assert.equal(local.element, null);
  assert.equal(local.iframe, null);
  assert.match(local.note[0], /"gpt2rand \(your files\)" was opened from your own files/);
  assert.match(local.note[1], /base=/);
  const disk = plan.embedPlan(snapshot({}), where('file:///home/me/headlight.html', { singleFile: true }));
  assert.equal(disk.element, null);
  assert.equal(disk.iframe, null);
  assert.match(disk.note[0], /single-file Headlight was opened from a file on your computer/);
  const singleServed = plan.embedPlan(snapshot({}), where('https://example.org/h.html', { singleFile: true }));
  assert.ok(singleServed.element === null && singleServed.iframe === null);
  assert.match(singleServed.note[0], /single-file build/);
  // The model list could not be read: the snippets, as before there was a check.
  const unknown = plan.embedPlan(snapshot({}), where('https://example.org/', { servedModels: null }));
  assert.ok(unknown.element !== null);
  console.log(`  local model: "${local.note.join(' ')}"\n  file://: "${disk.note.join(' ')}"`);
});
