// Parsing the values of command-line options that more than one command takes.
#pragma once
#include <string>
#include <vector>

// Whole-string integer parse into [min, max]; false on anything else (sign
// where none fits, spaces, overflow).
bool parse_int(const std::string& s, long min, long max, int* out);

// "1,2,3" -> token ids (whole numbers >= 0); throws hl::Error naming the bad item.
std::vector<int> parse_ids(const std::string& s);
