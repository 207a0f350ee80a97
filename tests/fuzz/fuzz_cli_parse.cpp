// The command line's value parsers on arbitrary text (cli_parse.*: --edit
// L.H=GAIN|mean, --ids, whole numbers): each value is accepted or refused
// with an hl::Error (parse_int: false) naming the option, never anything
// else. An accepted edit is plainly written: its layer and head are in
// 0..2^20 and print back to the text before '='; its gain is finite. An
// accepted id list has one id per comma-separated item, none negative.
#include <cmath>
#include <string>

#include "cli_parse.h"
#include "error.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const HeadEdit e = parse_edit(text);
    FUZZ_CHECK(e.layer >= 0 && e.layer <= (1 << 20) && e.head >= 0 && e.head <= (1 << 20));
    FUZZ_CHECK(std::isfinite(e.gain));
    // Leading zeros ("01.2=1") are plain whole numbers too: compare values, not text.
    const size_t dot = text.find('.'), eq = text.find('=');
    FUZZ_CHECK(std::stol(text.substr(0, dot)) == e.layer);
    FUZZ_CHECK(std::stol(text.substr(dot + 1, eq - dot - 1)) == e.head);
    FUZZ_CHECK(e.mean == (text.substr(eq + 1) == "mean"));
  } catch (const hl::Error& error) {
    FUZZ_CHECK(std::string(error.what()).find("bad --edit") == 0);
  }
  try {
    const std::vector<int> ids = parse_ids(text);
    size_t commas = 0;
    for (char c : text) commas += c == ',';
    FUZZ_CHECK(ids.size() == commas + 1);
    for (int id : ids) FUZZ_CHECK(id >= 0);
  } catch (const hl::Error& error) {
    FUZZ_CHECK(std::string(error.what()).find("bad --ids") == 0);
  }
  int value = 0;
  if (parse_int(text, -1000, 1000, &value)) FUZZ_CHECK(value >= -1000 && value <= 1000 && std::to_string(value).size() <= text.size());
  return 0;
}
