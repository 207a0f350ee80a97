// Token ids of a training or validation text file, cached next to it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer.h"

// FNV-1a of s continuing from h: the cache key of a text and its tokenizer.
uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull);

// Token ids of the text file at path, cached as PATH.ids-<hash>.bin (int32
// little-endian), the hash covering the text and tokenizer_hash (the
// tokenizer files). Documents (separated by blank lines) are encoded one at
// a time to bound the memory.
std::vector<int> encode_file_cached(const std::string& path, const hl::Tokenizer& tokenizer,
                                    uint64_t tokenizer_hash);
