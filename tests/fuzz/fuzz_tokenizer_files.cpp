// vocab.json and merges.txt from a stranger's folder: the input is both files,
// split at its first NUL byte. An accepted pair must encode a fixed text
// (of the bytes the vocabulary covers) and decode it back unchanged.
#include <string>
#include <vector>

#include "error.h"
#include "fuzz_common.h"
#include "tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string vocab = input.substr(0, nul);
  const std::string merges = nul == std::string::npos ? "" : input.substr(nul + 1);
  try {
    const hl::Tokenizer tokenizer(vocab, merges);
    const std::string text = "the cat sat";
    std::vector<int> ids;
    try {
      ids = tokenizer.encode(text);
    } catch (const hl::Error&) {
      return 0;  // a vocabulary without one of these bytes says so
    }
    FUZZ_CHECK(tokenizer.decode(ids) == text);
  } catch (const hl::Error&) {
  }
  return 0;
}
