#include "model_dir.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "error.h"

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

}  // namespace hl
