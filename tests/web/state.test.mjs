// URL state: every property of the hash table round-trips (defaults left
// out, unicode text, many edits), and malformed hashes are ignored part by
// part with a problem that names the part, never a throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../scripts/lib/random.mjs';
import { importTs } from './ts-import.mjs';

const url = await importTs('web/src/state/url-state.ts');
const { parseHash, serialiseHash, defaultUrlState, editsFromGains, gainsFromEdits, formatGain, DEFAULT_TEXT } = url;

function roundTrip(state) {
  const hash = serialiseHash(state);
  const parsed = parseHash(`#${hash}`);
  assert.deepEqual(parsed.problems, [], `no problems reading back "${hash}"`);
  assert.deepEqual(parsed.state, state, `"${hash}" reads back the same state`);
  return hash;
}

test('defaults serialise to an empty hash and parse back', () => {
  assert.equal(serialiseHash(defaultUrlState()), '');
  assert.deepEqual(parseHash('').state, defaultUrlState());
  assert.deepEqual(parseHash('#').state, defaultUrlState());
  assert.equal(defaultUrlState().text, DEFAULT_TEXT);
});

test('every property round-trips on its own', () => {
  const cases = {
    model: 'gpt-4l',
    text: 'The cat sat on the mat.',
    muted: [{ layer: 0, head: 5 }, { layer: 1, head: 3 }],
    gains: [{ layer: 2, head: 1, gain: 0.5 }],
    head: { layer: 3, head: 7 },
    pos: 12,
    view: 'lines',
    color: 'attention',
    source: 'mean',
    hide: ['picker', 'edits'],
    embed: true,
  };
  for (const [key, value] of Object.entries(cases)) {
    const state = { ...defaultUrlState(), [key]: value };
    const hash = roundTrip(state);
    console.log(`  ${key}: #${hash}`);
    assert.ok(!hash.includes('&'), `only ${key} is written (${hash})`);
  }
});

test('the documented forms read as documented', () => {
  const { state, problems } = parseHash('#model=gpt-4l&muted=1.3,0.5&gain=2.1:0.5&head=1.3&pos=4&view=lines&color=attention&hide=edits,picker&embed=1');
  assert.deepEqual(problems, []);
  assert.equal(state.model, 'gpt-4l');
  assert.deepEqual(state.muted, [{ layer: 0, head: 5 }, { layer: 1, head: 3 }], 'sorted by layer, head');
  assert.deepEqual(state.gains, [{ layer: 2, head: 1, gain: 0.5 }]);
  assert.deepEqual(state.head, { layer: 1, head: 3 });
  assert.equal(state.pos, 4);
  assert.equal(state.view, 'lines');
  assert.equal(state.color, 'attention');
  assert.deepEqual(state.hide, ['picker', 'edits'], 'panel order of the table');
  assert.equal(state.embed, true);
});

test('unicode, spaces, plus signs, ampersands, equals and newlines in the text', () => {
  const texts = [
    'naïve café — 東京 🚀 ZWJ: 👩‍👩‍👧',
    'a+b = c & d=e',
    'line one\nline two\ttabbed',
    '100% of #hash ?query <img src=x onerror=alert(1)>',
    '   leading and trailing spaces   ',
    '\u0000 control \u200b zero width',
  ];
  for (const text of texts) {
    const hash = roundTrip({ ...defaultUrlState(), text });
    assert.ok(!/[\s&#]/.test(hash.slice(5)), `the encoded text holds no raw space, & or # (${hash})`);
  }
  console.log(`  ${texts.length} texts round-trip, e.g. #${serialiseHash({ ...defaultUrlState(), text: texts[0] })}`);
});

test('many edits round-trip: 144 heads of a 12 x 12 model, gains 0..2', () => {
  const n_layer = 12;
  const n_head = 12;
  const gains = new Float32Array(n_layer * n_head);
  for (let i = 0; i < gains.length; i++) gains[i] = [0, 1, 0.25, 1.7, 2, 0.05][i % 6];
  const edits = editsFromGains(gains, n_head);
  const hash = serialiseHash({ ...defaultUrlState(), ...edits });
  assert.deepEqual(parseHash(hash).problems, []);
  const back = gainsFromEdits(parseHash(hash).state, n_layer, n_head);
  assert.deepEqual(back.problems, []);
  assert.deepEqual(Array.from(back.gains), Array.from(gains), 'float32 gains come back bit for bit');
  console.log(`  ${edits.muted.length} muted + ${edits.gains.length} scaled heads in ${hash.length} characters`);
});

test('gains print in their shortest float32 form', () => {
  assert.equal(formatGain(Math.fround(0.3)), '0.3');
  assert.equal(formatGain(Math.fround(1.7)), '1.7');
  assert.equal(formatGain(2), '2');
  const awkward = Math.fround(1 / 3);
  assert.equal(Math.fround(Number(formatGain(awkward))), awkward);
});

test('edits outside the model are named, the rest apply', () => {
  const { gains, problems } = gainsFromEdits({ muted: [{ layer: 0, head: 1 }, { layer: 9, head: 0 }], gains: [{ layer: 1, head: 7, gain: 2 }] }, 2, 4);
  assert.equal(gains[1], 0);
  assert.equal(gains.filter((g) => g !== 1).length, 1);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /9\.0/);
  assert.match(problems[0], /1\.7/);
});

test('malformed hashes: each bad part is ignored with a problem naming it, never a throw', () => {
  const cases = [
    ['#bogus=1', 'bogus'],
    ['#muted=1.x', 'muted'],
    ['#muted=1.3,,0.5', 'muted'],
    ['#gain=1.3', 'gain'],
    ['#gain=1.3:abc', 'gain'],
    ['#gain=1.3:-1', 'gain'],
    ['#gain=1.3:9', 'gain'],
    ['#gain=1.3:Infinity', 'gain'],
    ['#head=layer3', 'head'],
    ['#pos=-1', 'pos'],
    ['#pos=1e3', 'pos'],
    ['#view=3d', 'view'],
    ['#color=rainbow', 'color'],
    ['#source=all', 'source'],
    ['#hide=edits,everything', 'hide'],
    ['#embed=yes', 'embed'],
    ['#model=../../etc', 'model'],
    ['#text=%E0%A4%A', 'text'],
    ['#text', 'text'],
    ['#%zz=1', '%zz'],
  ];
  for (const [hash, named] of cases) {
    let parsed;
    assert.doesNotThrow(() => (parsed = parseHash(hash)), hash);
    assert.equal(parsed.problems.length, 1, `${hash}: one problem (${parsed.problems.join(' | ')})`);
    assert.ok(parsed.problems[0].includes(named), `${hash}: "${parsed.problems[0]}" names ${named}`);
    assert.deepEqual(parsed.state, defaultUrlState(), `${hash}: nothing else changes`);
  }
  console.log(`  ${cases.length} malformed hashes, e.g. "${parseHash('#gain=1.3:9').problems[0]}"`);
});

test('a hash with good and bad parts keeps the good ones', () => {
  const { state, problems } = parseHash('#text=hello&muted=zz&view=lines&bogus&pos=3&&');
  assert.equal(state.text, 'hello');
  assert.equal(state.view, 'lines');
  assert.equal(state.pos, 3);
  assert.deepEqual(state.muted, []);
  assert.equal(problems.length, 2, problems.join(' | '));
});

test('conflicts: a head both muted and scaled stays muted; gain 0 is a mute; gain 1 is no edit', () => {
  let parsed = parseHash('#muted=1.3&gain=1.3:0.5');
  assert.deepEqual(parsed.state.muted, [{ layer: 1, head: 3 }]);
  assert.deepEqual(parsed.state.gains, []);
  assert.equal(parsed.problems.length, 1);
  parsed = parseHash('#gain=0.1:0,0.2:1,0.3:1.5');
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.state.muted, [{ layer: 0, head: 1 }]);
  assert.deepEqual(parsed.state.gains, [{ layer: 0, head: 3, gain: 1.5 }]);
});

test('fuzz: random hashes never throw', () => {
  const alphabet = 'a=&,.:%#+0123456789mutedgainheadposviewtexthide\u00e9🚀';
  const rand = mulberry32(7);
  for (let i = 0; i < 5000; i++) {
    const length = Math.floor(rand() * 40);
    const chars = Array.from({ length }, () => [...alphabet][Math.floor(rand() * [...alphabet].length)]);
    const parsed = parseHash(chars.join(''));
    assert.ok(Array.isArray(parsed.problems));
  }
});
