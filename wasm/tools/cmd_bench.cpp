// Placeholder until this subcommand lands; replaced by its owner.
#include <cstdio>
#include "commands.h"
int cmd_bench(int, char**) {
  std::fputs("headlight bench: not built yet\n", stderr);
  return 1;
}
