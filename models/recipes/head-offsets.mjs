// Where each head looks from the second copy of a repeated random sequence:
// the mean attention by distance back from the query (i - j), its two
// largest distances, and the mean attention on the induction target (the
// token after the earlier occurrence of the query's token, n - 1 back). A
// head that copies with a "previous token" key at another distance k (keys
// "the token k back is X", values "the token k - 1 back") lands n - k back,
// not n - 1 back, and the induction score does not count it: this shows it.
//
//   node models/recipes/head-offsets.mjs --model DIR [--half-len 15] [--layers 0,1] [--sequences 8]
//
// Runs `headlight run --ids ... --json` (HEADLIGHT_BIN, default
// build/native/headlight) on sequences of n random ids (from 256 up, past
// the byte tokens) said twice; seed 7, the same sequences every time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function parseArgs(argv) {
  const o = { model: null, halfLen: 15, layers: null, sequences: 8 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--model') o.model = value;
    else if (flag === '--half-len') o.halfLen = Number(value);
    else if (flag === '--layers') o.layers = value.split(',').map(Number);
    else if (flag === '--sequences') o.sequences = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (!o.model) throw new Error('missing --model DIR');
  if (!(Number.isInteger(o.halfLen) && o.halfLen >= 4)) throw new Error('--half-len must be an integer >= 4');
  if (!(Number.isInteger(o.sequences) && o.sequences >= 1)) throw new Error('--sequences must be an integer >= 1');
  return o;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const bin = process.env.HEADLIGHT_BIN ?? 'build/native/headlight';
  const n = o.halfLen;
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  // sums[l][h][d]: attention at distance d back, summed over queries i in n+1 .. 2n-1.
  let sums = null;
  let queries = 0;
  const vocab = JSON.parse(readFileSync(join(o.model, 'config.json'), 'utf8')).vocab_size;
  for (let s = 0; s < o.sequences; s++) {
    const first = Array.from({ length: n }, () => 256 + Math.floor(random() * (vocab - 256)));
    const out = JSON.parse(execFileSync(bin, ['run', '--model', o.model, '--ids', [...first, ...first].join(','), '--json'],
      { maxBuffer: 1 << 28 }).toString());
    const L = out.attn.length;
    const H = out.attn[0].length;
    sums ??= Array.from({ length: L }, () => Array.from({ length: H }, () => new Float64Array(2 * n)));
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        for (let i = n + 1; i < 2 * n; i++) {
          const row = out.attn[l][h][i];
          for (let j = 0; j <= i; j++) sums[l][h][i - j] += row[j];
        }
      }
    }
    queries += n - 1;
  }
  const layers = o.layers ?? sums.map((_, l) => l);
  console.log(`model ${o.model}: ${o.sequences} sequences of 2 x ${n} random tokens; ` +
    `attention from the second copy (queries ${n + 1}..${2 * n - 1}), by distance back; induction target = ${n - 1} back`);
  console.log('head   induction   largest distances (mean attention)');
  for (const l of layers) {
    for (let h = 0; h < sums[l].length; h++) {
      const mean = Array.from(sums[l][h], (x) => x / queries);
      const top = mean.map((m, d) => [d, m]).sort((a, b) => b[1] - a[1]).slice(0, 2);
      console.log(`${`${l}.${h}`.padEnd(6)} ${mean[n - 1].toFixed(3).padStart(9)}   ` +
        top.map(([d, m]) => `${String(d).padStart(2)} back ${m.toFixed(2)}`).join(', '));
    }
  }
}

try {
  main();
} catch (error) {
  console.error(`head-offsets: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
