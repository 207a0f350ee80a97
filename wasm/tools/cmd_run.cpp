// headlight run: one forward pass over a text (or ids) with head edits, printed
// as one JSON object (--json) or as a table for reading in a terminal.
//
//   headlight run --model DIR (--text TEXT | --text-file PATH | --ids 1,2,3)
//                 [--edit L.H=GAIN | --edit L.H=mean]... [--mean-text TEXT]
//                 [--top-k K] [--json]
//
// L.H=mean replaces head L.H's z by its mean over all positions of
// --mean-text (default: the text run), computed by the unedited model.
//
// --dump-logits (not in the usage text) adds the full (T, V) logits to the
// JSON, at float precision, for the tests that compare with the reference.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_parse.h"
#include "commands.h"
#include "engine.h"
#include "error.h"
#include "model.h"
#include "model_dir.h"

namespace {

struct RunOptions {
  std::string model_dir;
  std::string text;
  bool has_text = false;
  std::vector<int> ids;
  bool has_ids = false;
  std::vector<HeadEdit> edits;
  std::string mean_text;
  bool has_mean_text = false;
  int top_k = 5;
  bool json = false;
  bool dump_logits = false;
};

// Throws hl::Error for bad values; returns false (after printing) for a usage error.
bool parse_args(int argc, char** argv, RunOptions* o) {
  int n_inputs = 0;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw hl::Error("option " + arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--model") {
      o->model_dir = value();
    } else if (arg == "--text") {
      o->text = value();
      o->has_text = true;
      n_inputs++;
    } else if (arg == "--text-file") {
      const std::string path = value();
      o->text = hl::read_file(path);
      o->has_text = true;
      n_inputs++;
    } else if (arg == "--ids") {
      o->ids = parse_ids(value());
      o->has_ids = true;
      n_inputs++;
    } else if (arg == "--edit") {
      o->edits.push_back(parse_edit(value()));
    } else if (arg == "--mean-text") {
      o->mean_text = value();
      o->has_mean_text = true;
    } else if (arg == "--top-k") {
      const std::string k = value();
      if (!parse_int(k, 1, 1 << 20, &o->top_k)) {
        throw hl::Error("bad --top-k '" + k + "': expected a whole number from 1 to 1048576");
      }
    } else if (arg == "--json") {
      o->json = true;
    } else if (arg == "--dump-logits") {
      o->dump_logits = true;
    } else {
      std::fprintf(stderr, "headlight run: unknown option '%s'\n", arg.c_str());
      return false;
    }
  }
  if (o->model_dir.empty()) {
    std::fputs("headlight run: --model DIR is required\n", stderr);
    return false;
  }
  if (n_inputs != 1) {
    std::fputs("headlight run: give exactly one of --text, --text-file, --ids\n", stderr);
    return false;
  }
  const bool any_mean =
      std::any_of(o->edits.begin(), o->edits.end(), [](const HeadEdit& e) { return e.mean; });
  if (o->has_mean_text && !any_mean) {
    std::fputs("headlight run: --mean-text needs an --edit L.H=mean\n", stderr);
    return false;
  }
  return true;
}

// Compact numbers keep the JSON small (T=64 attention is 4k numbers per head);
// probabilities in [0, 1] keep an absolute precision of 5e-7 with %.6g.
void put_number(std::string& out, float v, const char* format = "%.6g") {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  out += buf;
}

template <typename F>
void put_array(std::string& out, int n, F&& put_item) {
  out += '[';
  for (int i = 0; i < n; i++) {
    if (i) out += ',';
    put_item(i);
  }
  out += ']';
}

void put_string(std::string& out, const std::string& s) { out += nlohmann::json(s).dump(); }

// The JSON is written by hand so that attention and logits stream as compact
// numbers instead of going through a tree of json values.
std::string trace_json(const hl::Model& model, const hl::Trace& tr, bool dump_logits,
                       bool counted_all) {
  const hl::ModelConfig& cfg = model.config;
  const int T = tr.T, H = cfg.n_head, K = tr.top_k, V = cfg.vocab_size;
  std::string out;
  out.reserve(static_cast<size_t>(cfg.n_layer) * H * T * T * 4 + 256);
  out += "{\"tokens\":";
  put_array(out, T, [&](int t) { put_string(out, hl::token_display(model, tr.ids[t])); });
  out += ",\"ids\":";
  put_array(out, T, [&](int t) { out += std::to_string(tr.ids[t]); });
  // Losses are a handful of numbers of size ~10: full float precision.
  out += ",\"loss\":";
  put_array(out, T, [&](int t) { put_number(out, tr.token_loss[t], "%.9g"); });
  out += ",\"mean_loss\":";
  put_number(out, tr.mean_loss, "%.9g");
  out += ",\"truncated\":";
  out += tr.truncated ? "true" : "false";
  out += ",\"n_input_tokens\":" + std::to_string(tr.n_input_tokens);
  // false: the text has more tokens than n_input_tokens (kTokensCounted).
  out += std::string(",\"n_input_tokens_exact\":") + (counted_all ? "true" : "false");
  out += ",\"n_layer\":" + std::to_string(cfg.n_layer);
  out += ",\"n_head\":" + std::to_string(H);
  out += ",\"attn\":";  // (L, H, T, T)
  put_array(out, cfg.n_layer, [&](int l) {
    put_array(out, H, [&](int h) {
      const float* p = tr.attn_probs.data() + (static_cast<size_t>(l) * H + h) * T * T;
      put_array(out, T, [&](int t) {
        put_array(out, T, [&](int s) { put_number(out, p[static_cast<size_t>(t) * T + s]); });
      });
    });
  });
  out += ",\"top_k\":";  // (T, K)
  put_array(out, T, [&](int t) {
    put_array(out, K, [&](int k) {
      const size_t i = static_cast<size_t>(t) * K + k;
      out += "{\"id\":" + std::to_string(tr.top_k_ids[i]) + ",\"token\":";
      put_string(out, hl::token_display(model, tr.top_k_ids[i]));
      out += ",\"prob\":";
      put_number(out, tr.top_k_probs[i]);
      out += '}';
    });
  });
  if (dump_logits) {
    out += ",\"logits\":";  // (T, V), float precision: the tests compare to 1e-4
    put_array(out, T, [&](int t) {
      put_array(out, V,
                [&](int v) { put_number(out, tr.logits[static_cast<size_t>(t) * V + v], "%.9g"); });
    });
  }
  out += "}\n";
  return out;
}

void print_table(const hl::Model& model, const hl::Trace& tr) {
  std::printf("%4s  %-16s %8s  %s\n", "pos", "token", "loss", "top next tokens");
  for (int t = 0; t < tr.T; t++) {
    const std::string tok = nlohmann::json(hl::token_display(model, tr.ids[t])).dump();
    std::printf("%4d  %-16s ", t, tok.c_str());
    if (std::isfinite(tr.token_loss[t])) {
      std::printf("%8.3f  ", tr.token_loss[t]);
    } else {
      std::printf("%8s  ", "-");
    }
    for (int k = 0; k < tr.top_k; k++) {
      const size_t i = static_cast<size_t>(t) * tr.top_k + k;
      std::printf("%s %.3f  ", nlohmann::json(hl::token_display(model, tr.top_k_ids[i])).dump().c_str(),
                  tr.top_k_probs[i]);
    }
    std::printf("\n");
  }
  if (std::isfinite(tr.mean_loss)) std::printf("mean loss %.4f nats/token\n", tr.mean_loss);
}

}  // namespace

int cmd_run(int argc, char** argv) {
  RunOptions o;
  if (!parse_args(argc, argv, &o)) return 2;
  if (o.has_text && o.text.empty()) throw hl::Error("empty text: nothing to run");

  const std::shared_ptr<const hl::Model> model = load_model_dir(o.model_dir);
  // A text is tokenized as far as kTokensCounted, not whole: an 8 MB file
  // costs what is run and counted, not 8 MB of BPE.
  bool counted_all = true;
  const std::vector<int> ids =
      o.has_ids ? o.ids : model->tokenizer.encode_prefix(o.text, hl::kTokensCounted, &counted_all);

  if (o.has_mean_text && o.mean_text.empty()) throw hl::Error("empty --mean-text: no mean to take");
  // The mean reference: --mean-text, else the text run (as it is run: cut to n_positions).
  const std::vector<int> mean_ids = o.has_mean_text ? model->tokenizer.encode(o.mean_text) : ids;

  hl::Engine engine(model);
  for (const HeadEdit& e : o.edits) {
    if (e.mean) {
      engine.set_head_mean(e.layer, e.head, mean_ids);
    } else {
      engine.set_head_gain(e.layer, e.head, e.gain);
    }
  }
  // The command line has always cut --top-k to the vocabulary, where the page refuses it.
  engine.run(ids, std::min(o.top_k, model->config.vocab_size));
  const hl::Trace& tr = engine.trace();
  // Gains are any finite numbers here (the page keeps them in [0, 2]): large
  // ones can overflow float32 and leave no prediction to print.
  if (!std::all_of(tr.logits.begin(), tr.logits.end(), [](float x) { return std::isfinite(x); })) {
    throw hl::Error("the edited model overflows: some logits are not finite numbers (are the gains "
                    "too large?)");
  }
  if (tr.truncated) {
    std::fprintf(stderr,
                 "headlight run: input has %s%d tokens; the model reads at most %d (n_positions), "
                 "so only the first %d were run\n",
                 counted_all ? "" : "more than ", tr.n_input_tokens, model->config.n_positions, tr.T);
  }
  if (o.json) {
    const std::string out = trace_json(*model, tr, o.dump_logits, counted_all);
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    print_table(*model, tr);
  }
  return 0;
}
