// GPT-2 parameters: the one name table (HF names, Conv1D layout), the flat
// block it is laid out in, and loading from a safetensors file.
#include "weights.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#endif

namespace hl {
namespace {

const char kPrefix[] = "transformer.";
constexpr size_t kPrefixLength = sizeof(kPrefix) - 1;

// One parameter: HF name, shape, and the view in Weights that points at it.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;
  float** view;
};

// The name table, in block order. Every other list of parameters (param_table,
// the loader, the trainer, the exporter) derives from this one.
std::vector<Slot> slots(Weights& w) {
  const ModelConfig& c = w.config;
  const int64_t C = c.n_embd, V = c.vocab_size, P = c.n_positions, M = c.d_mlp();
  std::vector<Slot> s;
  s.push_back({"wte.weight", {V, C}, &w.wte});
  s.push_back({"wpe.weight", {P, C}, &w.wpe});
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string h = "h." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[size_t(i)];
    s.push_back({h + "ln_1.weight", {C}, &l.ln_1_w});
    s.push_back({h + "ln_1.bias", {C}, &l.ln_1_b});
    s.push_back({h + "attn.c_attn.weight", {C, 3 * C}, &l.c_attn_w});
    s.push_back({h + "attn.c_attn.bias", {3 * C}, &l.c_attn_b});
    s.push_back({h + "attn.c_proj.weight", {C, C}, &l.c_proj_w});
    s.push_back({h + "attn.c_proj.bias", {C}, &l.c_proj_b});
    if (c.attn_only) continue;
    s.push_back({h + "ln_2.weight", {C}, &l.ln_2_w});
    s.push_back({h + "ln_2.bias", {C}, &l.ln_2_b});
    s.push_back({h + "mlp.c_fc.weight", {C, M}, &l.mlp_c_fc_w});
    s.push_back({h + "mlp.c_fc.bias", {M}, &l.mlp_c_fc_b});
    s.push_back({h + "mlp.c_proj.weight", {M, C}, &l.mlp_c_proj_w});
    s.push_back({h + "mlp.c_proj.bias", {C}, &l.mlp_c_proj_b});
  }
  s.push_back({"ln_f.weight", {C}, &w.ln_f_w});
  s.push_back({"ln_f.bias", {C}, &w.ln_f_b});
  return s;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// parse_config already refuses these; the check here protects callers that
// build a ModelConfig by hand (the trainer, tests) from a silent overflow.
void check_config(const ModelConfig& c) {
  if (c.n_layer <= 0 || c.n_head <= 0 || c.n_embd <= 0 || c.n_positions <= 0 || c.vocab_size <= 0) {
    throw Error("weights: config sizes must be positive (n_layer " + std::to_string(c.n_layer) +
                ", n_head " + std::to_string(c.n_head) + ", n_embd " + std::to_string(c.n_embd) +
                ", n_positions " + std::to_string(c.n_positions) + ", vocab_size " +
                std::to_string(c.vocab_size) + ")");
  }
  if (c.n_embd % c.n_head != 0) {
    throw Error("weights: n_embd " + std::to_string(c.n_embd) + " is not divisible by n_head " +
                std::to_string(c.n_head));
  }
}

// "h.{digits}.attn.bias" / "h.{digits}.attn.masked_bias": the causal-mask
// buffers that GPT-2 checkpoints carry. They are constants, not parameters.
bool is_mask_buffer(const std::string& name) {
  if (name.compare(0, 2, "h.") != 0) return false;
  size_t i = 2;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == 2) return false;
  const std::string rest = name.substr(i);
  return rest == ".attn.bias" || rest == ".attn.masked_bias";
}

std::string strip_prefix(const std::string& name) {
  return name.compare(0, kPrefixLength, kPrefix) == 0 ? name.substr(kPrefixLength) : name;
}

// A NaN or infinite weight makes every prediction NaN downstream: refuse the
// file naming the tensor and the first such element. One pass over the bits
// (exponent all ones), OR-accumulated so the loop vectorises; the index is
// looked up only when something was found.
void check_finite(const ParamEntry& p) {
  const size_t n = numel(p.shape);
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, p.data + i, 4);
    any |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (!any) return;
  size_t i = 0;
  while (std::isfinite(p.data[i])) ++i;
  throw Error("weights: tensor '" + p.name + "' holds " +
              (std::isnan(p.data[i]) ? std::string("NaN") : std::string("an infinite value")) +
              " at element " + std::to_string(i) + " of " + std::to_string(n) +
              " (the file is damaged or its training diverged)");
}

// A separate lm_head.weight is accepted only when it is the token embedding
// again: the engine ties the head, and an untied head would be dropped silently.
void check_tied_head(const SafeTensors& st, const TensorInfo& lm_head, const TensorInfo& wte,
                     const float* wte_values) {
  if (lm_head.shape != wte.shape) {
    throw Error("weights: tensor 'lm_head.weight': shape " + shape_string(lm_head.shape) +
                " differs from wte.weight " + shape_string(wte.shape));
  }
  bool same = false;
  if (lm_head.dtype == wte.dtype) {
    same =
        std::memcmp(st.data + lm_head.begin, st.data + wte.begin, lm_head.end - lm_head.begin) == 0;
  } else {
    std::vector<float> head(numel(lm_head.shape));
    st.read_f32(lm_head, head.data());
    same = std::memcmp(head.data(), wte_values, head.size() * sizeof(float)) == 0;
  }
  if (!same) {
    throw Error(
        "weights: tensor 'lm_head.weight' differs from wte.weight; Headlight ties the "
        "LM head to the token embedding and cannot run an untied head");
  }
}

void advise_huge_pages(void* begin, size_t bytes) {
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
  constexpr uintptr_t kHugePage = uintptr_t(2) << 20;
  const uintptr_t first = (reinterpret_cast<uintptr_t>(begin) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t last = (reinterpret_cast<uintptr_t>(begin) + bytes) & ~(kHugePage - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // a hint
#else
  (void)begin;
  (void)bytes;
#endif
}

}  // namespace

Weights allocate_weights(const ModelConfig& config) {
  check_config(config);
  Weights w;
  w.config = config;
  w.layers.assign(size_t(config.n_layer), LayerWeights{});  // MLP views stay nullptr if attn_only
  std::vector<Slot> table = slots(w);
  size_t total = 0;
  for (const Slot& s : table) {
    const size_t n = numel(s.shape);
    if (total > std::numeric_limits<size_t>::max() / sizeof(float) - n) {
      throw Error("weights: model too large to address");
    }
    total += n;
  }
  try {
    // Reserve first, then zero: for a large model (GPT-2 small is 500 MB)
    // first-touch page faults cost more than the copy from the file, and
    // transparent huge pages cut their number 512-fold.
    w.block.reserve(total);
    advise_huge_pages(w.block.data(), total * sizeof(float));
    w.block.assign(total, 0.0f);
  } catch (const std::bad_alloc&) {
    throw Error("weights: cannot allocate " + std::to_string(total) + " parameters (" +
                std::to_string(total * sizeof(float) / (1024 * 1024)) + " MiB)");
  }
  size_t offset = 0;
  for (const Slot& s : table) {
    *s.view = w.block.data() + offset;
    offset += numel(s.shape);
  }
  return w;
}

std::vector<ParamEntry> param_table(Weights& w) {
  std::vector<ParamEntry> entries;
  for (Slot& s : slots(w)) entries.push_back({std::move(s.name), std::move(s.shape), *s.view});
  return entries;
}

Weights load_weights(const ModelConfig& config, const SafeTensors& st) {
  // File names without the "transformer." prefix -> tensor. Both spellings of
  // one name in the same file are ambiguous.
  std::map<std::string, const TensorInfo*> by_name;
  const TensorInfo* lm_head = nullptr;
  std::vector<std::string> unexpected;
  for (const auto& item : st.tensors) {
    const std::string& file_name = item.first;
    if (file_name == "lm_head.weight") {
      lm_head = &item.second;
      continue;
    }
    const std::string name = strip_prefix(file_name);
    if (!by_name.emplace(name, &item.second).second) {
      throw Error("weights: tensor '" + name + "' appears both with and without the '" + kPrefix +
                  "' prefix");
    }
  }

  // Every name and shape is checked against the config before the block is
  // allocated: a small file whose config asks for a huge model is refused
  // by its first wrong tensor, not after allocating what the config asks.
  check_config(config);
  Weights shapes_only;  // the name table's names and shapes; views stay null
  shapes_only.config = config;
  shapes_only.layers.assign(size_t(config.n_layer), LayerWeights{});
  std::set<std::string> used;
  for (const Slot& s : slots(shapes_only)) {
    auto it = by_name.find(s.name);
    if (it == by_name.end()) {
      throw Error("weights: missing tensor '" + s.name + "' (config: n_layer " +
                  std::to_string(config.n_layer) + (config.attn_only ? ", attn_only" : "") + ")");
    }
    if (it->second->shape != s.shape) {
      throw Error("weights: tensor '" + s.name + "': shape " + shape_string(it->second->shape) +
                  " disagrees with config, expected " + shape_string(s.shape));
    }
    used.insert(s.name);
  }

  Weights w = allocate_weights(config);
  for (const ParamEntry& p : param_table(w)) {
    st.read_f32(*by_name.at(p.name), p.data);
    check_finite(p);
  }
  if (lm_head) check_tied_head(st, *lm_head, *by_name.at("wte.weight"), w.wte);

  // Anything left over is a typo, another architecture, or a config that
  // disagrees with the file (more layers, MLP weights in an attn_only model).
  for (const auto& item : by_name) {
    if (!used.count(item.first) && !is_mask_buffer(item.first)) unexpected.push_back(item.first);
  }
  if (!unexpected.empty()) {
    std::string list;
    for (size_t i = 0; i < unexpected.size() && i < 5; ++i) {
      list += (i ? ", '" : "'") + unexpected[i] + "'";
    }
    if (unexpected.size() > 5) list += " and " + std::to_string(unexpected.size() - 5) + " more";
    throw Error("weights: unexpected tensor" + std::string(unexpected.size() > 1 ? "s " : " ") +
                list + " not used by a GPT-2 model of this config (n_layer " +
                std::to_string(config.n_layer) + (config.attn_only ? ", attn_only" : "") + ")");
  }
  return w;
}

}  // namespace hl
