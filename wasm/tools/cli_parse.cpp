#include "cli_parse.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "error.h"

bool parse_int(const std::string& s, long min, long max, int* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return false;
  *out = static_cast<int>(v);
  return true;
}

std::vector<int> parse_ids(const std::string& s) {
  std::vector<int> ids;
  size_t begin = 0;
  while (true) {
    const size_t comma = s.find(',', begin);
    const std::string item = s.substr(begin, comma == std::string::npos ? comma : comma - begin);
    int id = 0;
    if (!parse_int(item, 0, 0x7fffffff, &id)) {
      throw hl::Error("bad --ids '" + s + "': '" + item +
                      "' is not a token id (expected comma-separated whole numbers)");
    }
    ids.push_back(id);
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return ids;
}

HeadEdit parse_edit(const std::string& s) {
  const auto bad = [&](const std::string& why) {
    return hl::Error("bad --edit '" + s + "': " + why +
                     " (expected LAYER.HEAD=GAIN or LAYER.HEAD=mean, e.g. 0.3=0)");
  };
  const size_t dot = s.find('.');
  const size_t eq = s.find('=');
  if (dot == std::string::npos || eq == std::string::npos || dot > eq) throw bad("no LAYER.HEAD=");
  HeadEdit e{};
  if (!parse_int(s.substr(0, dot), -(1 << 20), 1 << 20, &e.layer))
    throw bad("layer is not a whole number");
  if (!parse_int(s.substr(dot + 1, eq - dot - 1), -(1 << 20), 1 << 20, &e.head)) {
    throw bad("head is not a whole number");
  }
  const std::string g = s.substr(eq + 1);
  if (g == "mean") {
    e.gain = 1.0f;
    e.mean = true;
    return e;
  }
  char* end = nullptr;
  e.gain = g.empty() ? NAN : std::strtof(g.c_str(), &end);
  if (g.empty() || *end != '\0' || !std::isfinite(e.gain)) throw bad("gain is not a finite number");
  return e;
}
