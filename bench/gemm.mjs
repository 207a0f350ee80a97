// GEMM GFLOPS of Headlight's wasm kernel next to onnxruntime-web's wasm
// backend (MatMul, 1 thread) on the same shapes in the same Node process.
// B is a constant for both: Headlight packs it once, ORT gets it as an
// initializer so it can prepack. Prints a table; asserts nothing.
//
//   node bench/gemm.mjs            (after npm run build:wasm)
//   HL_WASM_DIR=build/wasm-x node bench/gemm.mjs
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-web';
import { uniformFloats } from '../scripts/lib/random.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmDir = join(root, process.env.HL_WASM_DIR ?? 'build/wasm');

const SHAPES = [
  [128, 256, 768],
  [128, 256, 1024],
  [128, 1024, 256],
  [64, 768, 2304],
  [64, 768, 3072],
  [64, 3072, 768],
];
const WARMUP = 5;
const REPS = 21;

// ---- Headlight bench module ------------------------------------------------
// EXPORT_ES6 does not work under Node, so the MODULARIZE factory is evaluated
// from its source and given the wasm bytes directly.
async function loadHeadlightBench() {
  const jsPath = join(wasmDir, 'headlight_bench.js');
  if (!existsSync(jsPath)) throw new Error(`${jsPath} is missing: run npm run build:wasm`);
  const source = readFileSync(jsPath, 'utf8');
  const factory = new Function(`${source}\nreturn createHeadlightBench;`)();
  return factory({ wasmBinary: readFileSync(join(wasmDir, 'headlight_bench.wasm')) });
}

// ---- a MatMul ONNX model, protobuf encoded by hand ---------------------------
// Only the handful of ModelProto fields a MatMul needs (field numbers from
// onnx/onnx.proto3).
function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const fieldVarint = (field, n) => [...varint((field << 3) | 0), ...varint(n)];
function fieldBytes(field, bytes) {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return [...varint((field << 3) | 2), ...varint(b.length), ...b];
}
const fieldString = (field, s) => fieldBytes(field, new TextEncoder().encode(s));

const FLOAT = 1; // TensorProto.DataType.FLOAT

function valueInfo(name, dims) {
  // ValueInfoProto { name = 1; type = 2 } / TypeProto { tensor_type = 1 }
  // TypeProto.Tensor { elem_type = 1; shape = 2 } / TensorShapeProto { dim = 1 }
  const shape = dims.flatMap((d) => fieldBytes(1, fieldVarint(1, d)));
  const tensorType = [...fieldVarint(1, FLOAT), ...fieldBytes(2, shape)];
  return [...fieldString(1, name), ...fieldBytes(2, fieldBytes(1, tensorType))];
}

function matmulModel(M, K, N, B) {
  // TensorProto { dims = 1; data_type = 2; name = 8; raw_data = 9 } (little-endian floats)
  const initializer = [
    ...fieldVarint(1, K),
    ...fieldVarint(1, N),
    ...fieldVarint(2, FLOAT),
    ...fieldString(8, 'B'),
    ...fieldBytes(9, new Uint8Array(B.buffer, B.byteOffset, B.byteLength)),
  ];
  // NodeProto { input = 1; output = 2; name = 3; op_type = 4 }
  const node = [
    ...fieldString(1, 'A'),
    ...fieldString(1, 'B'),
    ...fieldString(2, 'C'),
    ...fieldString(3, 'matmul'),
    ...fieldString(4, 'MatMul'),
  ];
  // GraphProto { node = 1; name = 2; initializer = 5; input = 11; output = 12 }
  const graph = [
    ...fieldBytes(1, node),
    ...fieldString(2, 'gemm_bench'),
    ...fieldBytes(5, initializer),
    ...fieldBytes(11, valueInfo('A', [M, K])),
    ...fieldBytes(12, valueInfo('C', [M, N])),
  ];
  // ModelProto { ir_version = 1; producer_name = 2; graph = 7; opset_import = 8 }
  // OperatorSetIdProto { domain = 1; version = 2 }
  return Uint8Array.from([
    ...fieldVarint(1, 8),
    ...fieldString(2, 'headlight-bench'),
    ...fieldBytes(7, graph),
    ...fieldBytes(8, [...fieldString(1, ''), ...fieldVarint(2, 17)]),
  ]);
}

// ---- timing --------------------------------------------------------------------
// CPU time of this process (ms) rather than wall time: on a shared machine a
// preempted rep would otherwise count someone else's work. Set
// HL_BENCH_CLOCK=wall for wall-clock time.
const useWall = process.env.HL_BENCH_CLOCK === 'wall';
function now() {
  if (useWall) return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];


async function main() {
  const hl = await loadHeadlightBench();
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';

  const rows = [];
  for (const [M, K, N] of SHAPES) {
    const flops = 2 * M * K * N;
    const A = uniformFloats(M * K, 1 + M + K, -0.5, 0.5);
    const B = uniformFloats(K * N, 7 + N, -0.5, 0.5);

    // Headlight: pack B once (the session packs weights at load), then time
    // gemm_packed alone. Several products per timed call for small shapes
    // keep performance.now() resolution out of the figure.
    const pA = hl.allocFloats(M * K);
    const pB = hl.allocFloats(K * N);
    const pPacked = hl.allocFloats(hl.packedBSize(K, N));
    const pC = hl.allocFloats(M * N);
    hl.floatView(pA, M * K).set(A);
    hl.floatView(pB, K * N).set(B);
    hl.packB(pPacked, pB, K, N);
    const inner = Math.max(1, Math.round(2e8 / flops));

    // onnxruntime-web: session.run includes its per-call overhead (tensor
    // copy-in and copy-out), which is what a caller of ORT pays.
    const session = await ort.InferenceSession.create(matmulModel(M, K, N, B), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const feeds = { A: new ort.Tensor('float32', A, [M, K]) };

    // Warm up both, then alternate them rep by rep so that a busy machine
    // slows both alike.
    for (let i = 0; i < WARMUP; ++i) {
      hl.gemmPackedReps(pC, pA, pPacked, M, K, N, inner);
      for (let j = 0; j < inner; ++j) await session.run(feeds);
    }
    const hlTimes = [];
    const ortTimes = [];
    let ortOut = null;
    for (let i = 0; i < REPS; ++i) {
      let t0 = now();
      hl.gemmPackedReps(pC, pA, pPacked, M, K, N, inner);
      hlTimes.push((now() - t0) / inner);
      t0 = now();
      for (let j = 0; j < inner; ++j) ortOut = (await session.run(feeds)).C.data;
      ortTimes.push((now() - t0) / inner);
    }
    const hlOut = hl.floatView(pC, M * N).slice();
    for (const p of [pA, pB, pPacked, pC]) hl.free(p);
    await session.release();

    let maxDiff = 0;
    for (let i = 0; i < M * N; ++i) maxDiff = Math.max(maxDiff, Math.abs(hlOut[i] - ortOut[i]));
    // Both against a double-precision dot product on a sample of entries,
    // relative to sum |a||b| (the scale of float rounding error).
    let hlErr = 0;
    let ortErr = 0;
    for (let s = 0; s < 256; ++s) {
      const i = (s * 7919) % M;
      const j = (s * 104729) % N;
      let ref = 0;
      let mag = 0;
      for (let k = 0; k < K; ++k) {
        ref += A[i * K + k] * B[k * N + j];
        mag += Math.abs(A[i * K + k] * B[k * N + j]);
      }
      hlErr = Math.max(hlErr, Math.abs(hlOut[i * N + j] - ref) / mag);
      ortErr = Math.max(ortErr, Math.abs(ortOut[i * N + j] - ref) / mag);
    }
    const hlGflops = flops / (median(hlTimes) * 1e6);
    const ortGflops = flops / (median(ortTimes) * 1e6);
    rows.push({ shape: `${M}x${K}x${N}`, hlGflops, ortGflops, maxDiff, hlErr, ortErr });
  }

  console.log(
    `GEMM, wasm in Node ${process.version}, 1 thread, median of ${REPS} reps, ` +
      `${useWall ? 'wall-clock' : 'process CPU'} time`,
  );
  console.log(
    'shape (MxKxN)  | headlight GFLOPS | ort GFLOPS | ratio | max |hl - ort| | rel err vs f64 hl / ort',
  );
  console.log(
    '---------------|------------------|------------|-------|-------------|------------------------',
  );
  for (const r of rows) {
    console.log(
      `${r.shape.padEnd(14)} | ${r.hlGflops.toFixed(1).padStart(16)} | ` +
        `${r.ortGflops.toFixed(1).padStart(10)} | ${(r.hlGflops / r.ortGflops).toFixed(2).padStart(5)} | ` +
        `${r.maxDiff.toExponential(1).padStart(11)} | ` +
        `${r.hlErr.toExponential(1)} / ${r.ortErr.toExponential(1)}`,
    );
  }
}

await main();
