/**
 * A view's own questions about the pass on screen (protocol.ts
 * ComputeMethod: Methods.headArithmetic for the arithmetic panel,
 * Methods.composition for the composition view): the EngineCache puts the
 * engine back on that pass (its text and edits: engineWithEdits), then one
 * engine call answers.
 */
import type { EngineCache } from './engine-cache';
import { unwrap } from './engine-calls';
import type { Methods } from './protocol';

type ArithmeticParams = Methods['headArithmetic']['params'];
type CompositionParams = Methods['composition']['params'];

/** One head's arithmetic at a query position, on the pass of params' text and edits. */
export function headArithmetic(cache: EngineCache, params: ArithmeticParams): Methods['headArithmetic']['result'] {
  const { engine } = cache.engineWithEdits(params.text, params.gains, params.means);
  const { ok: _ok, ...result } = unwrap(
    engine.headArithmetic(params.layer, params.head, params.position),
    `head ${params.layer}.${params.head} at position ${params.position}`,
  );
  return result;
}

/** The target's attention before and after muting the source, on that pass. */
export function composition(cache: EngineCache, params: CompositionParams): Methods['composition']['result'] {
  const { engine } = cache.engineWithEdits(params.text, params.gains, params.means);
  const { source, target } = params;
  const { ok: _ok, ...result } = unwrap(
    engine.composition(source.layer, source.head, target.layer, target.head),
    `composition of ${source.layer}.${source.head} into ${target.layer}.${target.head}`,
  );
  return result;
}
