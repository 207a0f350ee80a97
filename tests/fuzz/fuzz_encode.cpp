// Encoding arbitrary bytes with the default model's tokenizer: valid UTF-8
// encodes to ids inside the vocabulary that decode to the same bytes; any
// other input is refused with an hl::Error naming the bad byte.
#include <string>

#include "error.h"
#include "fuzz_common.h"
#include "tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hl::Tokenizer tokenizer(fuzz::read_file("models/tokenizer-3584/vocab.json"),
                                       fuzz::read_file("models/tokenizer-3584/merges.txt"));
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool valid = hl::is_valid_utf8(text);
  try {
    const std::vector<int> ids = tokenizer.encode(text);
    FUZZ_CHECK(valid);
    for (int id : ids) FUZZ_CHECK(id >= 0 && id < tokenizer.vocab_size());
    FUZZ_CHECK(tokenizer.decode(ids) == text);
  } catch (const hl::Error&) {
    FUZZ_CHECK(!valid);
  }
  return 0;
}
