// Placeholder until this subcommand lands; replaced by its owner.
#include <cstdio>
#include "commands.h"
int cmd_train_bpe(int, char**) {
  std::fputs("headlight train-bpe: not built yet\n", stderr);
  return 1;
}
