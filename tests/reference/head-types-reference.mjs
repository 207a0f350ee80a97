// The head-type scores of docs/heads.md, written again from their
// definitions in float64, independently of wasm/core/head_types.cpp: the
// reference the engine's scores and the presets' claims are checked against.
// A is one head's attention as rows of numbers (A[q][k], queries q), ids the
// tokens.

export function headTypeScores(A, ids) {
  const T = ids.length;
  let prev = 0, first = 0, local = 0, entropy = 0, dup = 0, ind = 0, nDup = 0, nInd = 0;
  for (let q = 1; q < T; q++) {
    prev += A[q][q - 1];
    first += A[q][0];
    for (let k = Math.max(0, q - 3); k <= q; k++) local += A[q][k];
    let h = 0;
    for (let k = 0; k <= q; k++) if (A[q][k] > 0) h -= A[q][k] * Math.log(A[q][k]);
    entropy += h / Math.log(q + 1);
  }
  for (let q = 0; q < T; q++) {
    const dupKeys = [];
    for (let k = 0; k < q; k++) if (ids[k] === ids[q]) dupKeys.push(k);
    const indKeys = [];
    for (let k = 1; k <= q; k++) if (ids[k - 1] === ids[q]) indKeys.push(k);
    if (dupKeys.length) { nDup++; for (const k of dupKeys) dup += A[q][k]; }
    if (indKeys.length) { nInd++; for (const k of indKeys) ind += A[q][k]; }
  }
  const n = Math.max(1, T - 1);
  return {
    previous_token: T > 1 ? prev / n : 0,
    first_token: T > 1 ? first / n : 0,
    duplicate_token: nDup ? dup / nDup : 0,
    induction: nInd ? ind / nInd : 0,
    local: T > 1 ? local / n : 0,
    entropy: T > 1 ? entropy / n : 0,
  };
}

// Every head of an attention array [L][H][T][T] (headlight run --json's
// `attn`): { "l.h": scores }.
export function allHeadTypeScores(attn, ids) {
  const out = {};
  attn.forEach((layer, l) => layer.forEach((A, h) => { out[`${l}.${h}`] = headTypeScores(A, ids); }));
  return out;
}
