// Placeholder until this subcommand lands; replaced by its owner.
#include <cstdio>
#include "commands.h"
int cmd_eval(int, char**) {
  std::fputs("headlight eval: not built yet\n", stderr);
  return 1;
}
