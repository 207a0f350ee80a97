// Decoding arbitrary ids (little-endian int32s, any value): ids in the
// vocabulary decode and display; any other id is refused with an hl::Error.
#include <cstring>
#include <string>
#include <vector>

#include "error.h"
#include "fuzz_common.h"
#include "tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hl::Tokenizer tokenizer(fuzz::read_file("models/tokenizer-3584/vocab.json"),
                                       fuzz::read_file("models/tokenizer-3584/merges.txt"));
  std::vector<int> ids(size / 4);
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
  bool in_range = true;
  for (int id : ids) in_range = in_range && id >= 0 && id < tokenizer.vocab_size();
  try {
    const std::string bytes = tokenizer.decode(ids);
    FUZZ_CHECK(in_range);
    size_t total = 0;
    for (int id : ids) {
      total += tokenizer.token_bytes(id).size();
      FUZZ_CHECK(hl::is_valid_utf8(tokenizer.token_display(id)));
    }
    FUZZ_CHECK(total == bytes.size());
  } catch (const hl::Error&) {
    FUZZ_CHECK(!in_range);
  }
  return 0;
}
