// Placeholder until this subcommand lands; replaced by its owner.
#include <cstdio>
#include "commands.h"
int cmd_train(int, char**) {
  std::fputs("headlight train: not built yet\n", stderr);
  return 1;
}
