// Reading the files of a model folder (DESIGN.md: config.json,
// model.safetensors, vocab.json, merges.txt) for the command line tools.
#pragma once
#include <memory>
#include <string>

#include "model.h"

namespace hl {

// Whole file as bytes. Throws hl::Error naming the file if it is missing or
// cannot be read.
std::string read_file(const std::string& path);

// DIR/NAME, without doubling a trailing slash of DIR.
std::string model_file(const std::string& dir, const std::string& name);

// Loads the model of folder DIR (its four files). Errors name the file.
std::shared_ptr<const Model> load_model_dir(const std::string& dir);

}  // namespace hl

// The subcommands live outside namespace hl; let them call these unqualified.
using hl::load_model_dir;
using hl::model_file;
using hl::read_file;
