// K-composition made visible: a head's attention pattern before and after
// an earlier head is muted. An induction head finds "the token after an
// earlier copy of the current one" by matching its query against keys that
// a previous-token head wrote into the residual stream (Olsson et al. 2022,
// K-composition); mute the previous-token head and the induction head's
// stripe fades. Muting acts after the muted head's own layer's attention,
// so only heads of later layers can change.
//
// Shapes (config.h letters): T tokens.
#pragma once
#include <vector>

#include "head_types.h"
#include "model.h"
#include "session.h"

namespace hl {

struct CompositionPatterns {
  int T = 0;
  bool composes = false;          // source layer < target layer: the mute can reach the target
  std::vector<float> before;      // (T, T) the target's attention with the edits (the Trace's)
  std::vector<float> after;       // (T, T) the same with the source head's gain 0 as well
  HeadTypeScores before_scores;   // head_types.h scores of each pattern on the trace's ids
  HeadTypeScores after_scores;
};

// The target head's (target_layer, target_head) attention in `trace` (the
// pass of `model` with `edits`, current) and after muting the source head
// on top of those edits: layers source_layer..target_layer rerun from the
// trace's residual input of source_layer by the block the Session runs, so
// `after` equals a full run with the source muted bit for bit. Heads out of
// range throw hl::Error naming them.
CompositionPatterns composition_patterns(const Model& model, const Trace& trace,
                                         const HeadEdits& edits, int source_layer,
                                         int source_head, int target_layer, int target_head);

}  // namespace hl
