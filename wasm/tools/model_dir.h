// Reading the files of a model folder (DESIGN.md: config.json,
// model.safetensors, vocab.json, merges.txt) for the command line tools.
#pragma once
#include <string>

namespace hl {

// Whole file as bytes. Throws hl::Error naming the file if it is missing or
// cannot be read.
std::string read_file(const std::string& path);

// DIR/NAME, without doubling a trailing slash of DIR.
std::string model_file(const std::string& dir, const std::string& name);

}  // namespace hl

// The subcommands live outside namespace hl; let them call these unqualified.
using hl::model_file;
using hl::read_file;
