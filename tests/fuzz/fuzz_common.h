// Shared by the libFuzzer targets: the rule they check is that a hostile
// input ends in an hl::Error (a message for the reader) or in success, and
// never in a crash, a sanitizer report, another exception type or a hang.
// Where an input is accepted, each target also checks a property that must
// hold for it (a round trip, a bound), and traps when it does not.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace fuzz {

inline std::string read_file(const std::string& relative) {
  std::ifstream f(std::string(HL_SOURCE_DIR) + "/" + relative, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "fuzz: cannot open %s\n", relative.c_str());
    std::abort();
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A property of an accepted input failed: stop with the input saved.
#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

}  // namespace fuzz
