// Reading and writing the files of a model folder (DESIGN.md: config.json,
// model.safetensors, vocab.json, merges.txt) for the command line tools.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "model.h"
#include "weights.h"

namespace hl {

// Whole file as bytes. Throws hl::Error naming the file if it is missing or
// cannot be read.
std::string read_file(const std::string& path);

// DIR/NAME, without doubling a trailing slash of DIR.
std::string model_file(const std::string& dir, const std::string& name);

// Loads the model of folder DIR (its four files). Errors name the file.
std::shared_ptr<const Model> load_model_dir(const std::string& dir);

// Creates DIR and its parents (as mkdir -p). Throws hl::Error naming the one
// that cannot be made.
void make_dirs(const std::string& path);

// Writes size bytes to path (replacing it). Throws hl::Error naming it.
void write_file(const std::string& path, const void* data, size_t size);

// Writes the model folder DIR (made if missing): config.json, the weights as
// model.safetensors in dtype (with metadata), vocab.json and merges.txt.
void write_model_dir(const std::string& dir, Weights& weights, DType dtype,
                     const std::string& vocab_json, const std::string& merges_txt,
                     const std::map<std::string, std::string>& metadata);

// Copies the weights of model folder DIR into weights, which must have the
// same shape, after checking that the folder's vocab.json and merges.txt are
// these. Errors name the folder and both shapes.
void read_weights_into(const std::string& dir, Weights& weights, const std::string& vocab_json,
                       const std::string& merges_txt);

}  // namespace hl

// The subcommands live outside namespace hl; let them call these unqualified.
using hl::load_model_dir;
using hl::make_dirs;
using hl::model_file;
using hl::read_file;
using hl::write_file;
