#include "token_cache.h"

#include <chrono>
#include <cstdio>
#include <fstream>

#include "error.h"
#include "model_dir.h"

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Token ids of a text file, cached next to it as FILE.ids-<hash>.bin (int32
// little-endian), the hash covering the text and the tokenizer files.
std::vector<int> encode_file_cached(const std::string& path, const hl::Tokenizer& tokenizer,
                                    uint64_t tokenizer_hash) {
  const std::string text = read_file(path);
  if (text.empty()) throw hl::Error(path + ": file is empty");
  char tag[32];
  std::snprintf(tag, sizeof tag, "%016llx",
                static_cast<unsigned long long>(fnv1a(text, tokenizer_hash)));
  const std::string cache_path = path + ".ids-" + tag + ".bin";
  std::vector<int> ids;
  {
    std::ifstream f(cache_path, std::ios::binary | std::ios::ate);
    if (f) {
      const std::streamsize size = f.tellg();
      if (size > 0 && size % 4 == 0) {
        ids.resize(static_cast<size_t>(size) / 4);
        f.seekg(0);
        f.read(reinterpret_cast<char*>(ids.data()), size);
        if (f) {
          std::fprintf(stderr, "%s: %zu tokens (cached in %s)\n", path.c_str(), ids.size(),
                       cache_path.c_str());
          return ids;
        }
      }
      ids.clear();
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  ids = hl::encode_documents(tokenizer, text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "%s: %zu bytes -> %zu tokens (%.2f bytes/token) in %.1f s\n", path.c_str(),
               text.size(), ids.size(), static_cast<double>(text.size()) / ids.size(), seconds);
  try {
    write_file(cache_path, ids.data(), ids.size() * 4);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: token cache not written: %s\n", e.what());
  }
  return ids;
}
