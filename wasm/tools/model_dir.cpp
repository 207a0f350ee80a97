#include "model_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "config.h"
#include "error.h"
#include "model_files.h"
#include "safetensors.h"

namespace hl {

std::string read_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Error("cannot open " + path + ": " + std::strerror(errno));
  std::string bytes;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.append(buffer, n);
  // A directory opens on Linux but fails on read (EISDIR).
  const bool failed = std::ferror(file);
  const int read_errno = errno;
  std::fclose(file);
  if (failed) throw Error("cannot read " + path + ": " + std::strerror(read_errno));
  return bytes;
}

std::string model_file(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::shared_ptr<const Model> load_model_dir(const std::string& dir) {
  const std::string config = read_file(model_file(dir, "config.json"));
  const std::string safetensors = read_file(model_file(dir, "model.safetensors"));
  const std::string vocab = read_file(model_file(dir, "vocab.json"));
  const std::string merges = read_file(model_file(dir, "merges.txt"));
  return load_model(config, reinterpret_cast<const uint8_t*>(safetensors.data()),
                    safetensors.size(), vocab, merges);
}

void make_dirs(const std::string& path) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!partial.empty() && partial != ".") {
        if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
          throw Error("cannot create directory " + partial + ": " + std::strerror(errno));
      }
    }
    if (i < path.size()) partial += path[i];
  }
}

void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error("cannot write " + path);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) throw Error("error writing " + path);
}

void write_model_dir(const std::string& dir, Weights& weights, DType dtype,
                     const std::string& vocab_json, const std::string& merges_txt,
                     const std::map<std::string, std::string>& metadata) {
  make_dirs(dir);
  const ModelFileBytes files = model_file_bytes(weights, dtype, metadata);
  write_file(model_file(dir, "config.json"), files.config_json.data(), files.config_json.size());
  write_file(model_file(dir, "model.safetensors"), files.safetensors.data(),
             files.safetensors.size());
  write_file(model_file(dir, "vocab.json"), vocab_json.data(), vocab_json.size());
  write_file(model_file(dir, "merges.txt"), merges_txt.data(), merges_txt.size());
}

void read_weights_into(const std::string& dir, Weights& weights, const std::string& vocab_json,
                       const std::string& merges_txt) {
  const ModelConfig c = parse_config(read_file(model_file(dir, "config.json")));
  const ModelConfig& want = weights.config;
  auto shape = [](const ModelConfig& m) {
    return std::to_string(m.n_layer) + " layers, " + std::to_string(m.n_head) + " heads, d " +
           std::to_string(m.n_embd) + ", " + std::to_string(m.n_positions) + " positions, vocab " +
           std::to_string(m.vocab_size) + (m.attn_only ? ", attention only" : "");
  };
  if (c.n_layer != want.n_layer || c.n_head != want.n_head || c.n_embd != want.n_embd ||
      c.n_positions != want.n_positions || c.vocab_size != want.vocab_size ||
      c.attn_only != want.attn_only)
    throw Error("--init-from " + dir + ": the model there has " + shape(c) +
                ", this run trains " + shape(want));
  if (read_file(model_file(dir, "vocab.json")) != vocab_json ||
      read_file(model_file(dir, "merges.txt")) != merges_txt)
    throw Error("--init-from " + dir + ": its vocab.json/merges.txt differ from --tokenizer's");
  const std::string bytes = read_file(model_file(dir, "model.safetensors"));
  const SafeTensors st =
      parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  const Weights loaded = load_weights(c, st);
  std::copy(loaded.block.begin(), loaded.block.end(), weights.block.begin());
}

}  // namespace hl
