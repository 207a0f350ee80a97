// The URL-state parser under a mutation fuzzer (issue 19: "the URL-state
// parser, through a small harness"): seed hashes (valid links of every
// property, and broken ones) are mutated at random (characters inserted,
// deleted, replaced and repeated, from an alphabet of the hash's syntax,
// percent escapes, lone surrogates and long runs) for FUZZ_MS milliseconds
// (npm test: 5,000). For every input, parseHash must:
//   - not throw, and name each ignored part in a problem line of at most
//     MAX_PROBLEM characters (a 4 MB value is never repeated whole);
//   - give a state that serialises without throwing, to a hash that parses
//     back to the same state with no problem (what the page writes after
//     reading a link is a link it can read), but for a text longer than a
//     link carries (MAX_LINK_TEXT characters): its start.
// Prints executions, inputs with problems, distinct problem shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../scripts/lib/random.mjs';
import { importTs } from './ts-import.mjs';

const { parseHash, serialiseHash } = await importTs('web/src/state/url-state.ts');
const { MAX_LINK_TEXT } = await importTs('web/src/state/link-text.ts');

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 5000);
// A quoted value is cut to 60 characters; the rest is the message's own words
// (the longest: the list of panel names after a bad hide= value).
const MAX_PROBLEM = 400;
const SEEDS = [
  '',
  '#model=gpt-4l&text=The+cat+sat&muted=0.1,1.5&gain=0.2:1.5&mean=1.0&head=1.5&pos=3&view=lines&color=attention&source=mean&hide=edits,picker&embed=1',
  '#text=%F0%9F%9A%80%20caf%C3%A9&pos=-1',
  '#muted=0.1,0.1,99.99&gain=0.0:2,0.0:3&head=x.y&pos=1e9',
  '#model=..&text=%E0%A4%A&hide=all&view=3d',
  '#a=1&&=&text=&text=again',
];
const ALPHABET = [...'=&,.:%#+-_0123456789abcdefmutedgainheadposviewtexthidemodelsourcecolorembed1 \u00e9\u{1F680}'];
const SPECIALS = ['%', '%2', '%F0', '%E2%82', '%00', '%25', '\ud800', '\udfff', '\u0000', '&text=', '&muted=', '&pos=', '=', ','];

function mutate(input, random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  let s = [...input];
  const steps = 1 + Math.floor(random() * 6);
  for (let k = 0; k < steps; ++k) {
    const at = Math.floor(random() * (s.length + 1));
    const op = Math.floor(random() * 6);
    if (op === 0) s.splice(at, 0, pick(ALPHABET));
    else if (op === 1) s.splice(at, 0, ...pick(SPECIALS));
    else if (op === 2 && s.length) s.splice(at, 1 + Math.floor(random() * 4));
    else if (op === 3 && s.length) s[Math.min(at, s.length - 1)] = pick(ALPHABET);
    else if (op === 4) s.splice(at, 0, ...pick(ALPHABET).repeat(1 + Math.floor(random() * 3000)));
    else if (op === 5 && s.length > 2) {
      const from = Math.floor(random() * s.length);
      s.splice(at, 0, ...s.slice(from, from + 1 + Math.floor(random() * 40)));
    }
  }
  if (s.length > 20000) s = s.slice(0, 20000);
  return s.join('');
}

test(`URL-state parser fuzzed for ${FUZZ_MS} ms: no throw, short problems, what it reads it can write and read back`, () => {
  const random = mulberry32(20261204);
  const pool = [...SEEDS];
  const shapes = new Set();
  let executions = 0;
  let withProblems = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < FUZZ_MS) {
    const input = mutate(pool[Math.floor(random() * pool.length)], random);
    executions += 1;
    let parsed;
    try {
      parsed = parseHash(input);
    } catch (error) {
      assert.fail(`parseHash threw on ${JSON.stringify(input.slice(0, 200))}: ${error}`);
    }
    if (parsed.problems.length) withProblems += 1;
    for (const problem of parsed.problems) {
      assert.equal(typeof problem, 'string');
      assert.ok(problem.length <= MAX_PROBLEM, `a ${problem.length}-character problem: ${problem.slice(0, 120)}…`);
      shapes.add(problem.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N'));
    }
    let hash;
    try {
      hash = serialiseHash(parsed.state);
    } catch (error) {
      assert.fail(`the state read from ${JSON.stringify(input.slice(0, 200))} does not serialise: ${error}`);
    }
    const again = parseHash(`#${hash}`);
    assert.deepEqual(again.problems, [], `"${hash.slice(0, 200)}" (from ${JSON.stringify(input.slice(0, 120))}) reads back with problems`);
    const { text, ...rest } = again.state;
    const { text: parsedText, ...parsedRest } = parsed.state;
    assert.deepEqual(rest, parsedRest, `"${hash.slice(0, 200)}" reads back another state`);
    if (parsedText.length <= MAX_LINK_TEXT) assert.equal(text, parsedText, 'the same text');
    else assert.ok(parsedText.startsWith(text) && text.length >= MAX_LINK_TEXT - 1, `the text's first ${MAX_LINK_TEXT} characters`);
    // Inputs that parse without problems join the pool: mutations go deeper.
    if (!parsed.problems.length && pool.length < 500 && input.length < 2000) pool.push(input);
  }
  console.log(`url-state fuzz: ${executions} inputs in ${FUZZ_MS} ms, ${withProblems} with problems, ` +
    `${shapes.size} distinct problem shapes, pool ${pool.length}`);
  assert.ok(executions > 100, `${executions} executions`);
});
