// The copying score's OV circuit (docs/heads.md "Copying"), in float64,
// written from the definition by another route than the engine's
// (wasm/core/copying.cpp goes through the Gram matrix E^T E; this goes
// through the V rows of the embedding), and the checks of eigenvalues that
// need no eigenvalue solver: a complex LU of M - lambda I.
//
// Shapes: V vocab, C = n_embd, D = C / H. Row-vector form, Conv1D layout.

// M = W_O P diag(ln_f.w) E^T . E P diag(ln_1.w) W_V (D, D) of head (layer,
// head) of a model from loadReferenceModel, with P the centring of a row.
export function ovCircuitMatrix(model, layer, head) {
  const { n_embd: C, n_head: H, vocab_size: V } = model.config;
  const D = C / H;
  const { ln_1_w, c_attn_w, c_proj_w } = model.layers[layer];
  // right (V, D): each embedding row centred, scaled by ln_1.w, through W_V.
  const right = new Float64Array(V * D);
  const row = new Float64Array(C);
  for (let v = 0; v < V; v++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += model.wte[v * C + c];
    mean /= C;
    for (let c = 0; c < C; c++) row[c] = (model.wte[v * C + c] - mean) * ln_1_w[c];
    for (let d = 0; d < D; d++) {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += row[c] * c_attn_w[c * 3 * C + 2 * C + head * D + d];
      right[v * D + d] = sum;
    }
  }
  // left (D, V): each W_O row centred, scaled by ln_f.w, against every embedding.
  const left = new Float64Array(D * V);
  for (let d = 0; d < D; d++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += c_proj_w[(head * D + d) * C + c];
    mean /= C;
    for (let c = 0; c < C; c++) row[c] = (c_proj_w[(head * D + d) * C + c] - mean) * model.ln_f_w[c];
    for (let v = 0; v < V; v++) {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += row[c] * model.wte[v * C + c];
      left[d * V + v] = sum;
    }
  }
  const m = new Float64Array(D * D);
  for (let i = 0; i < D; i++)
    for (let v = 0; v < V; v++) {
      const l = left[i * V + v];
      for (let j = 0; j < D; j++) m[i * D + j] += l * right[v * D + j];
    }
  return m;
}

// |det(M - lambda I)| by a complex LU with partial pivoting; M (n, n) real.
export function absDetShifted(m, n, re, im) {
  const a = new Float64Array(2 * n * n);
  for (let i = 0; i < n * n; i++) a[2 * i] = m[i];
  for (let i = 0; i < n; i++) {
    a[2 * (i * n + i)] -= re;
    a[2 * (i * n + i) + 1] -= im;
  }
  let det = 1;
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++)
      if (Math.hypot(a[2 * (i * n + k)], a[2 * (i * n + k) + 1]) > Math.hypot(a[2 * (pivot * n + k)], a[2 * (pivot * n + k) + 1])) pivot = i;
    if (pivot !== k)
      for (let j = 0; j < n; j++)
        for (let part = 0; part < 2; part++) {
          const x = a[2 * (k * n + j) + part];
          a[2 * (k * n + j) + part] = a[2 * (pivot * n + j) + part];
          a[2 * (pivot * n + j) + part] = x;
        }
    const pr = a[2 * (k * n + k)], pi = a[2 * (k * n + k) + 1];
    const p2 = pr * pr + pi * pi;
    det *= Math.sqrt(p2);
    if (p2 === 0) return 0;
    for (let i = k + 1; i < n; i++) {
      // f = a[i][k] / pivot
      const xr = a[2 * (i * n + k)], xi = a[2 * (i * n + k) + 1];
      const fr = (xr * pr + xi * pi) / p2, fi = (xi * pr - xr * pi) / p2;
      for (let j = k; j < n; j++) {
        const yr = a[2 * (k * n + j)], yi = a[2 * (k * n + j) + 1];
        a[2 * (i * n + j)] -= fr * yr - fi * yi;
        a[2 * (i * n + j) + 1] -= fr * yi + fi * yr;
      }
    }
  }
  return det;
}

// For each eigenvalue lambda_i of the list: |det(M - lambda_i I)| /
// prod over j != i of |lambda_j - lambda_i|. det(M - x I) = prod_j
// (lambda_j - x), so this is about |lambda_i - the true eigenvalue near
// it|: the error of each eigenvalue, with no solver of our own.
export function eigenvalueErrors(m, n, re, im) {
  const errors = [];
  for (let i = 0; i < n; i++) {
    let others = 1;
    for (let j = 0; j < n; j++) if (j !== i) others *= Math.hypot(re[j] - re[i], im[j] - im[i]);
    errors.push(others === 0 ? 0 : absDetShifted(m, n, re[i], im[i]) / others);
  }
  return errors;
}

// trace(M) and trace(M^2), which equal sum lambda and sum lambda^2.
export function traces(m, n) {
  let t1 = 0, t2 = 0;
  for (let i = 0; i < n; i++) {
    t1 += m[i * n + i];
    for (let k = 0; k < n; k++) t2 += m[i * n + k] * m[k * n + i];
  }
  return { t1, t2 };
}
