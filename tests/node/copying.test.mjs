// The copying score of the Embind surface (copyingScores, wasm/core/copying.h)
// against the float64 reference OV circuit (tests/reference/copying-reference.mjs,
// built through the V embedding rows, not the engine's Gram matrix): every
// engine eigenvalue makes det(M - lambda I) about 0 (a complex LU), the
// eigenvalues sum to trace(M) and their squares to trace(M^2), and the score
// is trace(M) / sum |lambda|. Prints the figures it checks and which heads copy.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { loadReferenceModel } from '../reference/gpt2-reference.mjs';
import { eigenvalueErrors, ovCircuitMatrix, traces } from '../reference/copying-reference.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

for (const name of ['attn-only-2l', 'gpt-4l']) {
  test(`copyingScores on ${name}: eigenvalues of the float64 OV circuit, score = trace / sum |lambda|`, async () => {
    const dir = path.join(REPO_ROOT, 'models', name);
    const Module = await createModule();
    const engine = new Module.Engine();
    const info = expectOk(loadFolder(engine, readModelFolder(dir)), 'loadModel');
    const result = expectOk(engine.copyingScores(), 'copyingScores');
    const { n_layer: L, n_head: H } = info;
    const D = result.D;
    assert.equal(D, info.n_embd / H);
    assert.equal(result.copying.length, L * H);
    assert.equal(result.eig_re.length, L * H * D);
    const model = loadReferenceModel(dir);
    let worstEig = 0, worstT1 = 0, worstT2 = 0, worstScore = 0;
    const copies = [];
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const i = l * H + h;
        const m = ovCircuitMatrix(model, l, h);
        const re = result.eig_re.subarray(i * D, (i + 1) * D);
        const im = result.eig_im.subarray(i * D, (i + 1) * D);
        let scale = 0, sumAbs = 0, sumRe = 0, sumIm = 0, sq = 0;
        for (let d = 0; d < D; d++) {
          const r = Math.hypot(re[d], im[d]);
          scale = Math.max(scale, r);
          sumAbs += r;
          sumRe += re[d];
          sumIm += im[d];
          sq += re[d] * re[d] - im[d] * im[d];
        }
        const errors = eigenvalueErrors(m, D, re, im);
        worstEig = Math.max(worstEig, Math.max(...errors) / scale);
        const { t1, t2 } = traces(m, D);
        worstT1 = Math.max(worstT1, Math.abs(sumRe - t1) / sumAbs, Math.abs(sumIm) / sumAbs);
        worstT2 = Math.max(worstT2, Math.abs(sq - t2) / (scale * sumAbs));
        worstScore = Math.max(worstScore, Math.abs(result.copying[i] - t1 / sumAbs));
        if (result.copying[i] > 0) copies.push(`${l}.${h} ${result.copying[i].toFixed(2)}`);
      }
    console.log(`${name}: eigenvalue error / max |lambda| ${worstEig.toExponential(2)}; ` +
      `|sum lambda - trace M| / sum |lambda| ${worstT1.toExponential(2)}; ` +
      `|sum lambda^2 - trace M^2| / (max |lambda| sum |lambda|) ${worstT2.toExponential(2)}; ` +
      `|score - trace M / sum |lambda|| ${worstScore.toExponential(2)}`);
    console.log(`${name}: heads with a positive copying score (${copies.length} of ${L * H}): ${copies.join(', ')}`);
    assert.ok(worstEig < 1e-4, `eigenvalue error ${worstEig}`);
    assert.ok(worstT1 < 1e-5, `trace ${worstT1}`);
    assert.ok(worstT2 < 1e-5, `trace of M^2 ${worstT2}`);
    assert.ok(worstScore < 1e-5, `score ${worstScore}`);
    engine.delete();
  });
}
