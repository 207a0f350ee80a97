#include "cli_parse.h"

#include <cerrno>
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
