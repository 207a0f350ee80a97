#include "cli_parse.h"

#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstdlib>

#include "engine.h"
#include "error.h"

// strtol and strtof skip leading spaces and take '+' (strtof also hex and
// "inf"): a value that is not written plainly is refused before them. A sign
// inside is an exponent's only ("+0" read s[-1] here once: fuzz_cli_parse).
bool plain_number(const std::string& s, bool fraction) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= '0' && c <= '9') ||
                    (fraction && (c == '.' || c == 'e' || c == 'E' ||
                                  ((c == '-' || c == '+') && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E'))));
    if (!ok) return false;
  }
  return true;
}

bool parse_int(const std::string& s, long min, long max, int* out) {
  if (!plain_number(s, false)) return false;
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
  // The engine checks L and H against the model; here only that they are
  // plainly written whole numbers of a sane size.
  const auto index = [&](const std::string& text, const char* what) {
    int v = 0;
    if (!plain_number(text, false)) throw bad(std::string(what) + " '" + text + "' is not a whole number");
    if (!parse_int(text, 0, 1 << 20, &v))
      throw bad(std::string(what) + " " + text + " is out of range (0 to 1048576)");
    return v;
  };
  e.layer = index(s.substr(0, dot), "layer");
  e.head = index(s.substr(dot + 1, eq - dot - 1), "head");
  const std::string g = s.substr(eq + 1);
  if (g == "mean") {
    e.gain = 1.0f;
    e.mean = true;
    return e;
  }
  char* end = nullptr;
  e.gain = plain_number(g, true) ? std::strtof(g.c_str(), &end) : NAN;
  if (!std::isfinite(e.gain) || *end != '\0') throw bad("gain '" + g + "' is not a finite number");
  return e;
}

namespace {
std::string quoted(const std::string& s) { return "'" + s + "'"; }
}  // namespace

int single_token(const hl::Model& model, const char* flag, const std::string& text) {
  const std::vector<int> ids = model.tokenizer.encode(text);
  if (ids.size() == 1) return ids[0];
  std::string parts;
  for (size_t i = 0; i < ids.size(); i++) {
    parts += (i ? ", " : "") + quoted(hl::token_display(model, ids[i]));
  }
  throw hl::Error(std::string(flag) + " " + quoted(text) + " is " + std::to_string(ids.size()) +
                  " tokens" + (ids.empty() ? "" : " (" + parts + ")") + "; give a single token");
}

bool parse_options(int argc, char** argv, const char* command, const char* usage,
                   const OptionSetters& setters, bool* json) {
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      *json = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    const auto setter = setters.find(arg);
    if (setter == setters.end()) {
      std::fprintf(stderr, "headlight %s: unknown option '%s' (headlight %s --help)\n", command,
                   arg.c_str(), command);
      return false;
    }
    if (i + 1 >= argc) throw hl::Error("option " + arg + " needs a value");
    setter->second(argv[++i]);
  }
  return true;
}
