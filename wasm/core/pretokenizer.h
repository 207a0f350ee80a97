// GPT-2's pre-tokenisation: the text is cut into pieces by the pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (with \p{L}, \p{N}, \s as JavaScript /u regexes define them; see
// unicode_tables.h), and BPE then runs inside each piece.
#pragma once
#include <cstddef>
#include <string_view>

#include "unicode_tables.h"

namespace hl {

// Walks the pre-tokens of valid UTF-8 text (the caller checks validity).
// The pattern is tried alternative by alternative at each position, as a
// backtracking regex engine would. Every code point is in exactly one of
// letter / number / space / other, so some alternative always matches and
// the pre-tokens tile the text.
class PreTokenizer {
 public:
  explicit PreTokenizer(std::string_view text) : text_(text) {}

  // Next pre-token as [begin, end) byte offsets; false at the end of the text.
  bool next(size_t* begin, size_t* end) {
    if (pos_ >= text_.size()) return false;
    *begin = pos_;
    pos_ = match_at(pos_);
    *end = pos_;
    return true;
  }

 private:
  struct CodePoint {
    size_t length;  // bytes
    CharClass char_class;
  };
  CodePoint at(size_t i) const;
  size_t run_end(size_t i, CharClass cls) const;
  size_t match_at(size_t i) const;

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace hl
