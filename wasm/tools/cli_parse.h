// Parsing the values of command-line options that more than one command
// takes (headlight run, analyze, lens, patch): whole numbers, token ids, head
// edits, single tokens.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model.h"

// Whole-string integer parse into [min, max]; false on anything else (sign
// where none fits, spaces, overflow).
bool parse_int(const std::string& s, long min, long max, int* out);

// "1,2,3" -> token ids (whole numbers >= 0); throws hl::Error naming the bad item.
std::vector<int> parse_ids(const std::string& s);

struct HeadEdit {
  int layer, head;
  float gain;
  bool mean;  // mean ablation instead of a gain
};

// "L.H=GAIN", e.g. "1.3=0" mutes head 3 of layer 1; "L.H=mean" mean-ablates
// it. Throws hl::Error naming the flag value and what is wrong with it; the
// range of L and H is the engine's to check (it names the bad layer or head).
HeadEdit parse_edit(const std::string& s);

// The id of `text` if it is exactly one token of model's vocabulary (taken
// exactly as written: a leading space matters); else hl::Error naming the
// flag and the tokens, e.g. "--answer ' Mary' is 2 tokens (' M', 'ary');
// give a single token".
int single_token(const hl::Model& model, const char* flag, const std::string& text);

// The option loop of a command whose options each take one value (headlight
// lens, patch): --json sets *json, --help / -h prints usage and exits 0, and
// every other option is a key of setters, called with its value. Returns
// false after one stderr line for an unknown option; throws hl::Error for an
// option given no value.
using OptionSetters = std::map<std::string, std::function<void(const std::string&)>>;
bool parse_options(int argc, char** argv, const char* command, const char* usage,
                   const OptionSetters& setters, bool* json);
