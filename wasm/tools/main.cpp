// headlight: the native command line (tokenize, run, analyze, bench, train, eval,
// lens, patch, syntax).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "commands.h"

namespace {

const char* kUsage =
    "usage: headlight <command> [options]\n"
    "  tokenize --model DIR            UTF-8 text on stdin -> token ids\n"
    "  tokenize --model DIR --decode   token ids on stdin -> the exact bytes\n"
    "  tokenize --pretokens            UTF-8 text on stdin -> GPT-2 pre-token end offsets\n"
    "  run --model DIR --text TEXT [--edit L.H=GAIN | --edit L.H=mean]... [--mean-text TEXT]\n"
    "      [--top-k K] --json\n"
    "  analyze --model DIR (--text TEXT | --ids I,J,...) [--position P] [--mode zero|mean] --json\n"
    "                                  head types, the exact ablation scan, pruning curves\n"
    "  bench                           kernel and forward-pass benchmarks\n"
    "  train ...                       train a model (see headlight train --help)\n"
    "  eval --model DIR                validation loss and per-head scores\n"
    "  lens --model DIR --text TEXT [--answer TOKEN --foil TOKEN] [--position P] --json\n"
    "  patch --model DIR --clean TEXT --corrupted TEXT --answer TOKEN --foil TOKEN --json\n"
    "  syntax --model DIR [--probe FILE] --json   part-of-speech pairs each head prefers\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "tokenize") return cmd_tokenize(argc - 1, argv + 1);
    if (command == "run") return cmd_run(argc - 1, argv + 1);
    if (command == "analyze") return cmd_analyze(argc - 1, argv + 1);
    if (command == "bench") return cmd_bench(argc - 1, argv + 1);
    if (command == "train") return cmd_train(argc - 1, argv + 1);
    if (command == "eval") return cmd_eval(argc - 1, argv + 1);
    if (command == "lens") return cmd_lens(argc - 1, argv + 1);
    if (command == "patch") return cmd_patch(argc - 1, argv + 1);
    if (command == "syntax") return cmd_syntax(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "headlight %s: %s\n", command.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "headlight: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
