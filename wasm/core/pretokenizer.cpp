#include "pretokenizer.h"

#include "utf8.h"

namespace hl {

namespace {

// \p{L}, \p{N} and \s on ASCII, without the table search.
CharClass ascii_class(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::kLetter;
  if (c >= '0' && c <= '9') return CharClass::kNumber;
  if (c == ' ' || (c >= '\t' && c <= '\r')) return CharClass::kSpace;
  return CharClass::kOther;
}

}  // namespace

// The text is valid UTF-8 (checked before), so every lead byte decodes.
PreTokenizer::CodePoint PreTokenizer::at(size_t i) const {
  const unsigned char b0 = static_cast<unsigned char>(text_[i]);
  if (b0 < 0x80) return {1, ascii_class(b0)};
  const size_t len = utf8_char_length(text_, i);
  return {len, char_class_of(utf8_decode(text_, i, len))};
}

// End of the run of code points of class cls starting at i.
size_t PreTokenizer::run_end(size_t i, CharClass cls) const {
  while (i < text_.size()) {
    const CodePoint cp = at(i);
    if (cp.char_class != cls) break;
    i += cp.length;
  }
  return i;
}

// End of the match that starts at i.
size_t PreTokenizer::match_at(size_t i) const {
  const size_t n = text_.size();
  // 's|'t|'re|'ve|'m|'ll|'d (lower case only, as in GPT-2)
  if (text_[i] == '\'' && i + 1 < n) {
    const char c1 = text_[i + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
    if (i + 2 < n) {
      const char c2 = text_[i + 2];
      if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
        return i + 3;
      }
    }
  }
  // ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+': an optional ASCII space, then a
  // run of one class. The space only helps if a non-space follows it.
  const size_t body = (text_[i] == ' ' && i + 1 < n) ? i + 1 : i;
  const CharClass body_class = at(body).char_class;
  if (body_class != CharClass::kSpace) return run_end(body, body_class);
  // \s+(?!\S): the whole whitespace run if it ends the text, else the run
  // minus its last code point (which goes with the next pre-token, as the
  // space of ' ?\p{L}+' etc.). A lone whitespace before a non-space falls
  // through to \s+ and is its own pre-token.
  size_t last = i;
  size_t end = i;
  while (end < n) {
    const CodePoint cp = at(end);
    if (cp.char_class != CharClass::kSpace) break;
    last = end;
    end += cp.length;
  }
  if (end == n || last == i) return end;
  return last;
}

}  // namespace hl
