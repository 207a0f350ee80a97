// The one exception type of the core library. Messages name the problem
// (file, tensor, layer, head) so that the command line and the page can show
// them as they are.
#pragma once
#include <stdexcept>
#include <string>

namespace hl {

struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace hl
