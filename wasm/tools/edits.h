// Parsing shared by the commands that take head edits (headlight run, lens):
// whole numbers and --edit L.H=GAIN.
#pragma once
#include <string>

namespace hl {

struct HeadEdit {
  int layer, head;
  float gain;
};

// Whole-string integer parse; false on anything else (sign, spaces, overflow).
bool parse_int(const std::string& s, long min, long max, int* out);

// "L.H=GAIN", e.g. "1.3=0" mutes head 3 of layer 1. Throws hl::Error naming
// the flag value and what is wrong with it; the range of L and H is the
// engine's to check (Engine::set_head_gain names the bad layer or head).
HeadEdit parse_edit(const std::string& s);

}  // namespace hl
