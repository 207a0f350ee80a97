// The kernels as compiled to wasm (xsimd's SSE4.1 path lowered to 128-bit
// wasm SIMD, 4-lane tiles) against plain double loops, through the small
// build/wasm/headlight_bench module. The native doctest covers the AVX2 build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniformFloats as random } from '../../scripts/lib/random.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WASM_DIR = process.env.HEADLIGHT_WASM_DIR ?? path.join(REPO_ROOT, 'build/wasm');

async function loadBench() {
  const jsPath = path.join(WASM_DIR, 'headlight_bench.js');
  if (!existsSync(jsPath)) throw new Error(`${jsPath} is missing: build it with scripts/build-wasm.sh`);
  const source = readFileSync(jsPath, 'utf8');
  const factory = new Function(`${source}\nreturn createHeadlightBench;`)();
  return factory({ wasmBinary: readFileSync(path.join(WASM_DIR, 'headlight_bench.wasm')) });
}


// Copies data into a fresh wasm buffer; returns its offset.
function upload(hl, data) {
  const p = hl.allocFloats(data.length);
  hl.floatView(p, data.length).set(data);
  return p;
}

const hl = await loadBench();

test('wasm gemm_packed matches a double loop on awkward shapes', () => {
  let worst = 0;
  let shapes = 0;
  for (const M of [1, 3, 5, 17, 130]) {
    for (const K of [1, 7, 257, 600]) {
      for (const N of [1, 6, 9, 31, 77]) {
        const A = random(M * K, 1 + M * 7 + K);
        const B = random(K * N, 3 + N * 11 + K);
        const pA = upload(hl, A);
        const pB = upload(hl, B);
        const pPacked = hl.allocFloats(hl.packedBSize(K, N));
        const pC = hl.allocFloats(M * N);
        hl.packB(pPacked, pB, K, N);
        hl.gemmPacked(pC, pA, pPacked, M, K, N);
        const C = hl.floatView(pC, M * N).slice();
        for (let i = 0; i < M; ++i) {
          for (let j = 0; j < N; ++j) {
            let ref = 0;
            let mag = 0;
            for (let k = 0; k < K; ++k) {
              const p = A[i * K + k] * B[k * N + j];
              ref += p;
              mag += Math.abs(p);
            }
            worst = Math.max(worst, Math.abs(C[i * N + j] - ref) / Math.max(mag, 1e-30));
          }
        }
        for (const p of [pA, pB, pPacked, pC]) hl.free(p);
        ++shapes;
      }
    }
  }
  console.log(`wasm gemm_packed: ${shapes} shapes, max rel error ${worst.toExponential(2)} (tolerance 1e-5)`);
  assert.ok(worst < 1e-5, `max rel error ${worst}`);
});

test('wasm exp_forward: relative error over [-80, 80], -inf and underflow give 0', () => {
  const n = 200003;
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) x[i] = -80 + (160 * i) / (n - 1);
  const px = upload(hl, x);
  const py = hl.allocFloats(n);
  hl.expForward(py, px, n);
  const y = hl.floatView(py, n).slice();
  let worst = 0;
  for (let i = 0; i < n; ++i) worst = Math.max(worst, Math.abs(y[i] - Math.exp(x[i])) / Math.exp(x[i]));
  console.log(`wasm exp_forward: max rel error ${worst.toExponential(2)} on [-80, 80] (tolerance 2e-7)`);
  assert.ok(worst < 2e-7, `max rel error ${worst}`);

  const edge = Float32Array.from([-Infinity, -1e30, -100, 0, Infinity, 100]);
  const pe = upload(hl, edge);
  const pr = hl.allocFloats(edge.length);
  hl.expForward(pr, pe, edge.length);
  assert.deepEqual(Array.from(hl.floatView(pr, edge.length)), [0, 0, 0, 1, Infinity, Infinity]);
  for (const p of [px, py, pe, pr]) hl.free(p);
});

test('wasm attention_forward: causal probs and z against double', () => {
  let worstP = 0;
  let worstZ = 0;
  for (const [T, C, H] of [[1, 8, 2], [13, 36, 3], [45, 128, 2]]) {
    const D = C / H;
    const qkv = random(T * 3 * C, T * 31 + C, -2, 2);
    const pq = upload(hl, qkv);
    const pz = hl.allocFloats(T * C);
    const pp = hl.allocFloats(H * T * T);
    hl.attentionForward(pz, pp, pq, T, C, H);
    const z = hl.floatView(pz, T * C).slice();
    const probs = hl.floatView(pp, H * T * T).slice();
    for (let h = 0; h < H; ++h) {
      for (let t = 0; t < T; ++t) {
        const s = [];
        for (let u = 0; u <= t; ++u) {
          let d = 0;
          for (let i = 0; i < D; ++i) d += qkv[t * 3 * C + h * D + i] * qkv[u * 3 * C + C + h * D + i];
          s.push(d / Math.sqrt(D));
        }
        const m = Math.max(...s);
        const e = s.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u < T; ++u) {
          const got = probs[(h * T + t) * T + u];
          if (u > t) assert.equal(got, 0, `probs[${h},${t},${u}] above the diagonal`);
          else worstP = Math.max(worstP, Math.abs(got - e[u] / sum));
        }
        for (let i = 0; i < D; ++i) {
          let acc = 0;
          for (let u = 0; u <= t; ++u) acc += (e[u] / sum) * qkv[u * 3 * C + 2 * C + h * D + i];
          worstZ = Math.max(worstZ, Math.abs(z[t * C + h * D + i] - acc));
        }
      }
    }
    for (const p of [pq, pz, pp]) hl.free(p);
  }
  console.log(`wasm attention_forward: max abs error probs ${worstP.toExponential(2)}, z ${worstZ.toExponential(2)}`);
  assert.ok(worstP < 1e-6 && worstZ < 1e-5);
});

test('wasm softmax_rows: rows sum to 1', () => {
  const rows = 7;
  const n = 333;
  const x = random(rows * n, 77, -20, 20);
  const px = upload(hl, x);
  hl.softmaxRows(px, rows, n);
  const y = hl.floatView(px, rows * n).slice();
  let worst = 0;
  for (let r = 0; r < rows; ++r) {
    let sum = 0;
    for (let j = 0; j < n; ++j) sum += y[r * n + j];
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  console.log(`wasm softmax_rows: max |row sum - 1| ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5);
  hl.free(px);
});

test('wasm kernels hold no float->int conversion (scalarised in wasm SIMD) and do use f32x4', () => {
  // exp finds 2^n by the 1.5 * 2^23 bit trick precisely to avoid
  // i32x4.trunc_sat_f32x4_s, which V8 on x64 lowers to a long sequence.
  const listing = execFileSync('wasm-objdump', ['-d', path.join(WASM_DIR, 'headlight_bench.wasm')], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const truncs = listing.split('\n').filter((line) => /trunc/.test(line));
  const simd = listing.split('\n').filter((line) => /f32x4\.(mul|add)/.test(line)).length;
  console.log(`headlight_bench.wasm: ${truncs.length} trunc instructions, ${simd} f32x4 mul/add`);
  assert.deepEqual(truncs, []);
  assert.ok(simd > 50);
});
