// The logit lens and direct logit attribution in float64, from a
// referenceForward() pass (gpt2-reference.mjs), written from their
// definitions (docs/circuits.md) and not from the engine's code: the lens
// applies ln_f and wte to each residual row; the attribution splits the
// final residual into its parts as vectors (the MLPs' outputs by difference
// of residuals, where the engine recomputes them) and projects each part
// after subtracting its own mean, where the engine centres the direction.
import { layerNorm } from './gpt2-reference.mjs';

// Probabilities (V) of residual row x (C) read through ln_f and wte.
function lensProbs(model, x) {
  const { n_embd: C, vocab_size: V, layer_norm_epsilon: eps } = model.config;
  const normed = layerNorm(x, 1, C, model.ln_f_w, model.ln_f_b, eps);
  const logits = new Float64Array(V);
  let max = -Infinity;
  for (let v = 0; v < V; v++) {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += normed[c] * model.wte[v * C + c];
    logits[v] = sum;
    max = Math.max(max, sum);
  }
  let total = 0;
  const probs = new Float64Array(V);
  for (let v = 0; v < V; v++) total += (probs[v] = Math.exp(logits[v] - max));
  for (let v = 0; v < V; v++) probs[v] /= total;
  return { logits, probs };
}

// The lens at every layer l in 0..L (residual[l]) and position t:
// probs[l][t] Float64Array (V), and answer rank (1 = best) if answer >= 0.
export function referenceLens(model, forward, answer = -1) {
  const C = model.config.n_embd;
  return forward.residual.map((rows) => {
    const out = [];
    for (let t = 0; t < forward.T; t++) {
      const { logits, probs } = lensProbs(model, rows.subarray(t * C, (t + 1) * C));
      let rank = null;
      if (answer >= 0) {
        rank = 1;
        for (const l of logits) if (l > logits[answer]) rank++;
      }
      out.push({ probs, rank });
    }
    return out;
  });
}

// Direct logit attribution at position t of logit(answer) - logit(foil):
// { heads: [L][H], mlps: [L], embed, bias, total, actual } (see attribution.h).
// headGains [L][H] or flat, as referenceForward's options.headGains.
export function referenceAttribution(model, forward, ids, t, answer, foil, headGains = null) {
  const { n_layer: L, n_head: H, n_embd: C, layer_norm_epsilon: eps, attn_only } = model.config;
  const D = C / H;
  const gain = (l, h) => headGains == null ? 1
    : Array.isArray(headGains[0]) ? headGains[l][h] : headGains[l * H + h];
  const row = (rows) => Array.from(rows.subarray(t * C, (t + 1) * C));

  // Frozen scale from the real final residual; d = wte[answer] - wte[foil].
  const x = row(forward.residual[L]);
  const mean = x.reduce((a, b) => a + b, 0) / C;
  const scale = 1 / Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / C + eps);
  const d = Array.from({ length: C }, (_, c) => model.wte[answer * C + c] - model.wte[foil * C + c]);
  // A part's push: its own mean removed, scaled, then along ln_f_w * d.
  const push = (part) => {
    const m = part.reduce((a, b) => a + b, 0) / C;
    let s = 0;
    for (let c = 0; c < C; c++) s += (part[c] - m) * scale * model.ln_f_w[c] * d[c];
    return s;
  };

  const embed = push(Array.from({ length: C },
    (_, c) => model.wte[ids[t] * C + c] + model.wpe[t * C + c]));
  let bias = 0;
  for (let c = 0; c < C; c++) bias += model.ln_f_b[c] * d[c];
  const heads = [];
  const mlps = [];
  for (let l = 0; l < L; l++) {
    const w = model.layers[l];
    const attnOut = Array.from(w.c_proj_b);  // every head's output plus the bias (C)
    const layerHeads = [];
    for (let h = 0; h < H; h++) {
      const out = new Array(C).fill(0);
      for (let k = 0; k < D; k++) {
        const zk = gain(l, h) * forward.z[l][(t * H + h) * D + k];
        for (let c = 0; c < C; c++) out[c] += zk * w.c_proj_w[(h * D + k) * C + c];
      }
      for (let c = 0; c < C; c++) attnOut[c] += out[c];
      layerHeads.push(push(out));
    }
    heads.push(layerHeads);
    bias += push(Array.from(w.c_proj_b));
    if (attn_only) {
      mlps.push(0);
      continue;
    }
    // The MLP's output without its bias: what the layer added beyond attention.
    const before = row(forward.residual[l]);
    const after = row(forward.residual[l + 1]);
    mlps.push(push(after.map((a, c) => a - before[c] - attnOut[c] - w.proj_b[c])));
    bias += push(Array.from(w.proj_b));
  }
  const total = embed + bias + heads.flat().reduce((a, b) => a + b, 0) +
    mlps.reduce((a, b) => a + b, 0);
  const V = model.config.vocab_size;
  const actual = forward.logits[t * V + answer] - forward.logits[t * V + foil];
  return { heads, mlps, embed, bias, total, actual };
}
