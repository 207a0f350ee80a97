// The engine's requests with hostile arguments, as the page's worker and the
// command line pass them on (issue 19: "the head-edit and analysis request
// parsers"): the input is a program of calls on one hl::Engine over the
// tiny-gpt fixture (runs on arbitrary ids and top-k, head gains of any float
// incl. NaN and inf, mean and resample ablation from arbitrary texts,
// ablation scans, pruning curves, activation patching, incremental reruns
// at any position, trace reads). Each call either does its job or throws an
// hl::Error naming the problem; nothing else (no crash, no sanitizer report,
// no other exception). After a call that succeeded, the trace it left is
// checked for its own sizes.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ablation.h"
#include "engine.h"
#include "error.h"
#include "fuzz_common.h"
#include "model.h"

namespace {

// Reads the program's bytes; past the end it reads zeros.
struct Reader {
  const uint8_t* data;
  size_t size, at = 0;
  uint8_t byte() { return at < size ? data[at++] : 0; }
  int small() { return static_cast<int8_t>(byte()); }  // -128..127: in and out of range
  int word() { return static_cast<int16_t>(byte() | (byte() << 8)); }
  float number() {
    uint32_t bits = byte() | (byte() << 8) | (byte() << 16) | (uint32_t(byte()) << 24);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  std::vector<int> ids() {
    std::vector<int> out(byte() % 80);  // 0..79 ids: empty, short, past n_positions (64)
    for (int& id : out) id = word();     // some outside the vocabulary (443), some negative
    return out;
  }
  bool done() const { return at >= size; }
};

void check_trace(hl::Engine& engine) {
  if (!engine.has_trace()) return;
  const hl::Trace& tr = engine.trace();
  FUZZ_CHECK(tr.T >= 1 && tr.T <= engine.model().config.n_positions);
  FUZZ_CHECK(tr.ids.size() == size_t(tr.T));
  FUZZ_CHECK(tr.token_loss.size() == size_t(tr.T));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string config = fuzz::read_file("tests/fixtures/tiny-gpt/config.json");
  static const std::string weights = fuzz::read_file("tests/fixtures/tiny-gpt/model.safetensors");
  static const std::string vocab = fuzz::read_file("tests/fixtures/tiny-gpt/vocab.json");
  static const std::string merges = fuzz::read_file("tests/fixtures/tiny-gpt/merges.txt");
  static const std::shared_ptr<const hl::Model> model = hl::load_model(
      config, reinterpret_cast<const uint8_t*>(weights.data()), weights.size(), vocab, merges);

  hl::Engine engine(model);
  Reader in{data, size};
  for (int calls = 0; calls < 12 && !in.done(); ++calls) {
    try {
      switch (in.byte() % 13) {
        case 0: engine.run(in.ids(), in.word()); break;
        case 1: engine.run_with_baseline(in.ids(), in.word()); break;
        case 2: {
          const int layer = in.small(), head = in.small();
          engine.set_head_gain(layer, head, in.number());
          break;
        }
        case 3: {
          const int layer = in.small(), head = in.small();
          engine.set_head_mean(layer, head, in.ids());
          break;
        }
        case 4: {
          const int layer = in.small(), head = in.small();
          engine.set_head_resample(layer, head, in.ids());
          break;
        }
        case 5: {
          const int layer = in.small(), head = in.small();
          engine.clear_head_z(layer, head);
          break;
        }
        case 6: engine.clear_head_edits(); break;
        case 7: {
          const hl::AblationMode mode = in.byte() % 2 ? hl::AblationMode::mean : hl::AblationMode::zero;
          const int position = in.small();
          engine.ablation_scan(mode, position, in.ids());
          break;
        }
        case 8: {
          hl::PruningOptions options;
          options.mode = in.byte() % 2 ? hl::AblationMode::mean : hl::AblationMode::zero;
          options.rescan_every = in.small();
          engine.pruning_curve(options, in.ids());
          break;
        }
        case 9: {
          const std::vector<int> clean = in.ids(), corrupted = in.ids();
          const int answer = in.word(), foil = in.word();
          const uint8_t maps = in.byte();
          engine.activation_patching(clean, corrupted, answer, foil, maps & 1, maps & 2);
          break;
        }
        case 10: engine.update_at(in.small()); break;
        case 11: engine.update(); engine.finish_update(); break;
        case 12: engine.hold_attention(); (void)engine.attention_changed_from(); break;
      }
      check_trace(engine);
    } catch (const hl::Error&) {
    }
  }
  return 0;
}
