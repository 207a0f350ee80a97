// Subcommands of the native `headlight` command line. Each returns the exit
// code; bad input prints one line on stderr naming the problem and returns 1
// (2 for a usage error).
#pragma once

int cmd_tokenize(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_analyze(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_lens(int argc, char** argv);
int cmd_patch(int argc, char** argv);
int cmd_syntax(int argc, char** argv);
