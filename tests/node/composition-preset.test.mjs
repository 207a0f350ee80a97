// The composition preset's claim (web/src/views/presets.ts COMPOSITION_OF)
// on each shipped model it names: on the preset's texts (seeds 1-4) the
// induction head scores about `before` as it is and about `after` with the
// previous-token head muted, through the binding's composition (the same
// engine call the composition view makes). Prints every figure it checks.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { importTs } from '../web/ts-import.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const { PRESETS, COMPOSITION_OF } = await importTs('web/src/views/presets.ts');
const preset = PRESETS.find((p) => p.id === 'composition');
const head = (name) => name.split('.').map(Number);

test('the composition preset: muting the previous-token head takes the induction head\'s score from `before` to `after`', async () => {
  const Module = await createModule();
  for (const [model, pair] of Object.entries(COMPOSITION_OF)) {
    const engine = new Module.Engine();
    expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'models', model))), `load ${model}`);
    const [sl, sh] = head(pair.previousToken);
    const [tl, th] = head(pair.induction);
    assert.deepEqual(preset.select(model), { layer: tl, head: th }, 'the preset selects the induction head');
    assert.ok(preset.guide(model).includes(`about ${pair.before} to about ${pair.after}`));
    for (let seed = 1; seed <= 4; seed++) {
      const ids = expectOk(engine.tokenize(preset.text(seed)), 'tokenize').ids;
      expectOk(engine.run(ids, 5), 'run');
      const c = expectOk(engine.composition(sl, sh, tl, th), 'composition');
      const { induction: before } = c.before_scores;
      const { induction: after } = c.after_scores;
      console.log(`  ${model} seed ${seed} (${ids.length} tokens): ${pair.induction} induction ${before.toFixed(3)} -> ${after.toFixed(3)} ` +
        `with ${pair.previousToken} muted (the guide says about ${pair.before} -> about ${pair.after}); ` +
        `first-token ${c.before_scores.first_token.toFixed(3)} -> ${c.after_scores.first_token.toFixed(3)}`);
      assert.ok(Math.abs(before - pair.before) < 0.15, 'before is about what the guide says');
      assert.ok(after < pair.after + 0.05, 'after is about what the guide says');
    }
    engine.delete();
  }
});
