// Placeholder until this subcommand lands; replaced by its owner.
#include <cstdio>
#include "commands.h"
int cmd_run(int, char**) {
  std::fputs("headlight run: not built yet\n", stderr);
  return 1;
}
