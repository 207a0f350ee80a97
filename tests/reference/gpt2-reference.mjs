// An independent GPT-2 forward pass in float64, written plainly for checking
// the C++ engine: no SIMD, no packing, no shared code with wasm/core (it has
// its own safetensors reader). Slow and obvious on purpose.
//
// Model: pre-LN transformer, learned positions, causal softmax attention with
// scale 1/sqrt(D), tanh-GELU MLP (absent when attn_only), final ln_f, LM head
// tied to wte. Head gains multiply each head's output z before c_proj; a
// head's z may first be replaced (mean and resample ablation).
//
// Shape letters: L layers, H heads, C = n_embd, D = C / H, T tokens, V vocab.
import { readFileSync } from 'node:fs';
import path from 'node:path';

// ------------------------------------------------------------ safetensors --

function halfToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function bfloat16ToNumber(b) {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, b << 16, true);
  return view.getFloat32(0, true);
}

// Reads every tensor as a Float64Array; names lose a "transformer." prefix.
export function readSafetensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const dataStart = 8 + headerLength;
  const tensors = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    const n = info.shape.reduce((a, b) => a * b, 1);
    const values = new Float64Array(n);
    const at = dataStart + begin;
    if (info.dtype === 'F32') {
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(at + 4 * i, true);
    } else if (info.dtype === 'F16') {
      for (let i = 0; i < n; i++) values[i] = halfToNumber(view.getUint16(at + 2 * i, true));
    } else if (info.dtype === 'BF16') {
      for (let i = 0; i < n; i++) values[i] = bfloat16ToNumber(view.getUint16(at + 2 * i, true));
    } else {
      throw new Error(`reference: tensor ${name}: dtype ${info.dtype} not supported`);
    }
    if (end - begin !== n * (info.dtype === 'F32' ? 4 : 2)) {
      throw new Error(`reference: tensor ${name}: size disagrees with shape`);
    }
    tensors.set(name.startsWith('transformer.') ? name.slice('transformer.'.length) : name, {
      shape: info.shape,
      values,
    });
  }
  return tensors;
}

// --------------------------------------------------------------- loading --

// dir holds config.json and model.safetensors; options.weightsFile names
// another weights file (e.g. tests/fixtures/dtypes/model.f16.safetensors).
export function loadReferenceModel(dir, options = {}) {
  const json = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const config = {
    n_layer: json.n_layer,
    n_head: json.n_head,
    n_embd: json.n_embd,
    n_positions: json.n_positions ?? json.n_ctx,
    vocab_size: json.vocab_size,
    layer_norm_epsilon: json.layer_norm_epsilon ?? 1e-5,
    attn_only: json.attn_only === true,
  };
  const weightsFile = options.weightsFile ?? path.join(dir, 'model.safetensors');
  const tensors = readSafetensors(new Uint8Array(readFileSync(weightsFile)));
  const C = config.n_embd;
  const get = (name, shape) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`reference: missing tensor ${name}`);
    if (t.shape.join(',') !== shape.join(',')) {
      throw new Error(`reference: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t.values;
  };
  const layers = [];
  for (let l = 0; l < config.n_layer; l++) {
    const h = `h.${l}.`;
    const layer = {
      ln_1_w: get(h + 'ln_1.weight', [C]),
      ln_1_b: get(h + 'ln_1.bias', [C]),
      c_attn_w: get(h + 'attn.c_attn.weight', [C, 3 * C]),
      c_attn_b: get(h + 'attn.c_attn.bias', [3 * C]),
      c_proj_w: get(h + 'attn.c_proj.weight', [C, C]),
      c_proj_b: get(h + 'attn.c_proj.bias', [C]),
    };
    if (!config.attn_only) {
      layer.ln_2_w = get(h + 'ln_2.weight', [C]);
      layer.ln_2_b = get(h + 'ln_2.bias', [C]);
      layer.fc_w = get(h + 'mlp.c_fc.weight', [C, 4 * C]);
      layer.fc_b = get(h + 'mlp.c_fc.bias', [4 * C]);
      layer.proj_w = get(h + 'mlp.c_proj.weight', [4 * C, C]);
      layer.proj_b = get(h + 'mlp.c_proj.bias', [C]);
    }
    layers.push(layer);
  }
  return {
    config,
    wte: get('wte.weight', [config.vocab_size, C]),
    wpe: get('wpe.weight', [config.n_positions, C]),
    layers,
    ln_f_w: get('ln_f.weight', [C]),
    ln_f_b: get('ln_f.bias', [C]),
  };
}

// ----------------------------------------------------------------- pieces --

// out (T, N) = x (T, K) @ w (K, N) + b (N); Conv1D layout.
function linear(x, T, K, w, b, N) {
  const out = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let sum = b[n];
      for (let k = 0; k < K; k++) sum += x[t * K + k] * w[k * N + n];
      out[t * N + n] = sum;
    }
  }
  return out;
}

// Normalises each row of x (T, C) to zero mean and unit variance (biased).
export function layerNorm(x, T, C, weight, bias, eps) {
  const out = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += x[t * C + c];
    mean /= C;
    let variance = 0;
    for (let c = 0; c < C; c++) variance += (x[t * C + c] - mean) ** 2;
    variance /= C;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < C; c++) out[t * C + c] = (x[t * C + c] - mean) * inv * weight[c] + bias[c];
  }
  return out;
}

// GPT-2's GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
function gelu(x) {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

// Gains as [L][H] nested arrays or a flat (L*H) array; default all 1.
function gainOf(headGains, L, H) {
  if (headGains == null) return () => 1;
  if (Array.isArray(headGains) && Array.isArray(headGains[0])) return (l, h) => headGains[l][h];
  if (headGains.length !== L * H) throw new Error(`reference: headGains needs ${L * H} values`);
  return (l, h) => headGains[l * H + h];
}

// Replaced z as [{ layer, head, z }], z (D) for every position (a mean) or
// (T, D) one row per position (resample); returns (l, h, i) -> the row of
// query i, or null for the head's own z.
function zReplacementOf(zReplace, T, D) {
  const byHead = new Map();
  for (const { layer, head, z } of zReplace ?? []) {
    if (z.length !== D && z.length !== T * D) {
      throw new Error(`reference: replaced z of head ${layer}.${head} needs ${D} or ${T * D} values`);
    }
    byHead.set(`${layer}.${head}`, z);
  }
  return (l, h, i) => {
    const z = byHead.get(`${l}.${h}`);
    if (!z) return null;
    const at = z.length === D ? 0 : i * D;
    return (d) => z[at + d];
  };
}

// ---------------------------------------------------------------- forward --

// ids: token ids (T <= n_positions). Returns
//   logits   Float64Array (T, V)
//   attn     Float64Array (L, H, T, T)   softmax probabilities, causal
//   z        Array(L) of Float64Array (T, H, D): head outputs before gains and replacements
//   residual Array(L+1) of Float64Array (T, C): input of each layer; [L] feeds ln_f
// options: headGains (gainOf), zReplace (zReplacementOf): z' = gain * (replaced z or z);
// residualReplace [{ layer, position, x (C) }]: row `position` of the stream
// entering `layer` (L: ln_f's input) replaced by x (activation patching);
// qkvInput [{ layer, head, parts: ['q' | 'k' | 'v', ...], x (T, C) }]: that
// head's chosen inputs computed from ln_1(x) instead of ln_1 of the stream
// (path patching: x = the corrupted stream plus the sender's difference).
export function referenceForward(model, ids, options = {}) {
  const { n_layer: L, n_head: H, n_embd: C, vocab_size: V, layer_norm_epsilon: eps } = model.config;
  const D = C / H;
  const T = ids.length;
  if (T < 1 || T > model.config.n_positions) throw new Error(`reference: T = ${T} out of range`);
  const gain = gainOf(options.headGains, L, H);
  const replaced = zReplacementOf(options.zReplace, T, D);

  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    const id = ids[t];
    if (!(id >= 0 && id < V)) throw new Error(`reference: token id ${id} out of range`);
    for (let c = 0; c < C; c++) x[t * C + c] = model.wte[id * C + c] + model.wpe[t * C + c];
  }

  const attn = new Float64Array(L * H * T * T);
  const zs = [];
  const residual = [];
  const scale = 1 / Math.sqrt(D);
  const replaceRows = (l) => {
    for (const { layer, position, x: row } of options.residualReplace ?? []) {
      if (layer === l) x.set(row, position * C);
    }
  };
  for (let l = 0; l < L; l++) {
    const w = model.layers[l];
    replaceRows(l);
    residual.push(x.slice());
    const h1 = layerNorm(x, T, C, w.ln_1_w, w.ln_1_b, eps);
    const qkv = linear(h1, T, C, w.c_attn_w, w.c_attn_b, 3 * C); // (T, 3C): q | k | v
    for (const { layer, head, parts, x: input } of options.qkvInput ?? []) {
      if (layer !== l) continue;
      const other = linear(layerNorm(input, T, C, w.ln_1_w, w.ln_1_b, eps), T, C, w.c_attn_w,
        w.c_attn_b, 3 * C);
      for (const part of parts) {
        const col = 'qkv'.indexOf(part) * C + head * D;
        for (let t = 0; t < T; t++) {
          for (let d = 0; d < D; d++) qkv[t * 3 * C + col + d] = other[t * 3 * C + col + d];
        }
      }
    }
    const z = new Float64Array(T * H * D); // (T, H, D)
    const zGained = new Float64Array(T * C);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        // Scores of query i against keys 0..i; later keys get probability 0.
        const scores = new Float64Array(i + 1);
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qkv[i * 3 * C + h * D + d] * qkv[j * 3 * C + C + h * D + d];
          scores[j] = dot * scale;
          max = Math.max(max, scores[j]);
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        const row = ((l * H + h) * T + i) * T;
        for (let j = 0; j <= i; j++) attn[row + j] = scores[j] / sum;
        const replacement = replaced(l, h, i);
        for (let d = 0; d < D; d++) {
          let value = 0;
          for (let j = 0; j <= i; j++) value += attn[row + j] * qkv[j * 3 * C + 2 * C + h * D + d];
          z[(i * H + h) * D + d] = value;
          zGained[i * C + h * D + d] = (replacement ? replacement(d) : value) * gain(l, h);
        }
      }
    }
    zs.push(z);
    const attnOut = linear(zGained, T, C, w.c_proj_w, w.c_proj_b, C);
    const afterAttn = new Float64Array(T * C);
    for (let i = 0; i < T * C; i++) afterAttn[i] = x[i] + attnOut[i];
    x = afterAttn;
    if (!model.config.attn_only) {
      const h2 = layerNorm(x, T, C, w.ln_2_w, w.ln_2_b, eps);
      const hidden = linear(h2, T, C, w.fc_w, w.fc_b, 4 * C);
      for (let i = 0; i < hidden.length; i++) hidden[i] = gelu(hidden[i]);
      const mlpOut = linear(hidden, T, 4 * C, w.proj_w, w.proj_b, C);
      const afterMlp = new Float64Array(T * C);
      for (let i = 0; i < T * C; i++) afterMlp[i] = x[i] + mlpOut[i];
      x = afterMlp;
    }
  }
  replaceRows(L);
  residual.push(x.slice());

  const final = layerNorm(x, T, C, model.ln_f_w, model.ln_f_b, eps);
  const logits = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    for (let v = 0; v < V; v++) {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += final[t * C + c] * model.wte[v * C + c];
      logits[t * V + v] = sum;
    }
  }
  return { logits, attn, z: zs, residual, T, config: model.config };
}

// log p(answer) at position t of a referenceForward's logits (T, V): the
// log-softmax over the whole vocabulary, with the maximum taken out first
// (a stable log-sum-exp), in float64.
export function referenceLogProb(forward, t, answer) {
  const V = forward.config.vocab_size;
  const row = forward.logits.subarray(t * V, (t + 1) * V);
  let top = -Infinity;
  for (let v = 0; v < V; v++) top = Math.max(top, row[v]);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(row[v] - top);
  return row[answer] - top - Math.log(sum);
}

// Path patching's receiver inputs (docs/circuits.md): the sender (ls, hs)'s
// difference d (T, C) = (z_clean - z_corrupted) of that head through its
// rows of c_proj, added to the corrupted stream entering each receiver's
// layer; returns the qkvInput option of referenceForward. clean and
// corrupted are referenceForward results; receivers [[l, h], ...]; parts
// e.g. ['q', 'v'].
export function pathPatchInputs(model, clean, corrupted, [ls, hs], receivers, parts) {
  const { n_head: H, n_embd: C } = model.config;
  const D = C / H;
  const T = clean.T;
  const w = model.layers[ls].c_proj_w;
  return receivers.map(([l, h]) => {
    const x = corrupted.residual[l].slice();
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < D; j++) {
        const diff = clean.z[ls][(t * H + hs) * D + j] - corrupted.z[ls][(t * H + hs) * D + j];
        for (let c = 0; c < C; c++) x[t * C + c] += diff * w[(hs * D + j) * C + c];
      }
    }
    return { layer: l, head: h, parts, x };
  });
}
