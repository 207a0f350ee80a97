// Placeholder until this subcommand lands; replaced by its owner.
#include <cstdio>
#include "commands.h"
int cmd_tokenize(int, char**) {
  std::fputs("headlight tokenize: not built yet\n", stderr);
  return 1;
}
