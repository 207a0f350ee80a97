// GPT-2 byte-level BPE: vocab.json (token string -> id, bytes mapped to
// printable code points by GPT-2's bytes_to_unicode) and merges.txt (ranked
// pairs). Pre-tokenisation follows GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with Unicode general categories for all of Unicode.
#pragma once
#include <cstdint>
#include <string>
#include <memory>
#include <unordered_map>
#include <vector>

namespace hl {

// How far a text is tokenized, at most, where only its first n_positions
// tokens are run (the page, `headlight run`): enough to say how long a
// pasted text is up to about 250 KB of English, "more than" past it.
constexpr size_t kTokensCounted = 65536;

class Tokenizer {
 public:
  // Throws hl::Error naming the file and the problem if vocab/merges don't parse.
  Tokenizer(const std::string& vocab_json, const std::string& merges_txt);

  // Input must be valid UTF-8; throws hl::Error (with the byte offset) if not.
  std::vector<int> encode(const std::string& text) const;

  // The first max_tokens ids of encode(text), and no work past them: a long
  // paste or an 8 MB file costs what the model reads, not the whole text
  // (the pre-tokens are encoded one by one, so the ids are encode's own).
  // *complete says whether they are all of encode(text).
  std::vector<int> encode_prefix(const std::string& text, size_t max_tokens, bool* complete) const;

  // Exact bytes of a sequence: decode(encode(x)) == x.
  std::string decode(const std::vector<int>& ids) const;

  // Bytes of one token.
  std::string token_bytes(int id) const;

  // One token for display: valid UTF-8 stays as is; any byte that is not part
  // of a complete UTF-8 character in this token is shown as \xE2 (visible,
  // never dropped).
  std::string token_display(int id) const;

  int vocab_size() const { return static_cast<int>(id_to_bytes_.size()); }

 private:
  std::vector<std::string> id_to_bytes_;
  // implementation detail left to tokenizer.cpp
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Token ids of a training text whose documents are separated by blank lines,
// encoded one document at a time (each keeps the run of newlines after it):
// the pre-tokeniser never merges across "\n\n" anyway, and a document at a
// time bounds the memory. `headlight train`'s files and the page's live
// trainer both read their text this way, so both see the same ids.
std::vector<int> encode_documents(const Tokenizer& tokenizer, const std::string& text);

// True if s is valid UTF-8; on false, *bad_offset is the first bad byte.
bool is_valid_utf8(const std::string& s, size_t* bad_offset = nullptr);

}  // namespace hl
