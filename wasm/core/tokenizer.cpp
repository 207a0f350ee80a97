// GPT-2 byte-level BPE. Three stages, each matching the reference encoder
// (OpenAI's encoder.py, npm gpt-3-encoder) exactly:
//   1. pre-tokenisation: GPT-2's regex, run by hand over decoded code points
//      with the generated Unicode class tables (pretokenizer.cpp);
//   2. every pre-token's UTF-8 bytes start as single-byte tokens;
//   3. BPE: repeatedly merge the adjacent pair of lowest merge rank, all of
//      its occurrences left to right, until no adjacent pair has a rank.
// Stage 3 runs on token ids with a min-heap keyed by (rank, position), which
// gives the same merges as the reference's rescan-per-rank loop in
// O(n log n), so a pathological 1 MB "word" stays fast.
//
// Merge ranks are keyed by the pair (left id, right id), as encoder.py keys
// them by tuple. gpt-3-encoder keys them by the string "left,right", so 11
// pairs of GPT-2's vocabulary (e.g. `",` + `"` against `"` + `,"`) share a key
// there; on every text tested both give the same ids.
#include "tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

#include "error.h"
#include "pretokenizer.h"
#include "utf8.h"

namespace hl {
namespace {

constexpr const char* kVocabFile = "vocab.json";
constexpr const char* kMergesFile = "merges.txt";

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

// ------------------------------------------------------ bytes_to_unicode ----

// GPT-2's reversible map from bytes to printable code points: printable
// Latin-1 bytes map to themselves, the other 68 to U+0100.. in byte order.
std::vector<char32_t> bytes_to_unicode() {
  std::vector<char32_t> byte_to_cp(256);
  int n_shifted = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    byte_to_cp[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n_shifted++);
  }
  return byte_to_cp;
}

uint64_t pair_key(int left, int right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Open-addressing hash map (left id, right id) -> merge. The merge loop does a
// lookup per candidate pair; this table is several times faster there than
// std::unordered_map (no node per entry, no division by a prime).
class MergeTable {
 public:
  struct Merge {
    int rank;       // line order in merges.txt, 0 = merged first
    int merged_id;  // id of left + right
  };

  // Inserts unless the key is present; returns the entry for the key.
  std::pair<const Merge*, bool> insert(uint64_t key, Merge merge) {
    if (2 * (size_ + 1) > slots_.size()) rehash(std::max<size_t>(64, 2 * slots_.size()));
    Slot* slot = probe(key);
    if (slot->key == key) return {&slot->merge, false};
    *slot = {key, merge};
    ++size_;
    return {&slot->merge, true};
  }

  const Merge* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const Slot* slot = const_cast<MergeTable*>(this)->probe(key);
    return slot->key == key ? &slot->merge : nullptr;
  }

 private:
  // Ids are below 2^31, so no pair key has all bits set.
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };

  // The slot holding key, or the empty slot where it would go.
  Slot* probe(uint64_t key) {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (slots_[i].key != key && slots_[i].key != kEmpty) i = (i + 1) & mask;
    return &slots_[i];
  }

  void rehash(size_t capacity) {  // capacity: a power of two
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (slot.key != kEmpty) *probe(slot.key) = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace

// ------------------------------------------------------------------ Impl ----

struct Tokenizer::Impl {
  using Merge = MergeTable::Merge;

  int byte_token[256];  // id of each single-byte token, -1 if absent
  MergeTable merges;    // (left id, right id) -> merge

  // Pre-token bytes -> ids. Shared by all encode calls; guarded because a
  // Tokenizer may be used from several threads (native training).
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int>> cache;
  static constexpr size_t kMaxCacheEntries = 1 << 20;
  // Longer pre-tokens (runs of digits, long URLs, pathological input) rarely
  // repeat; caching them would only hold memory.
  static constexpr size_t kMaxCachedWordBytes = 64;

  void bpe(std::string_view word, std::vector<int>& out) const;
  void encode_word(std::string_view word, std::vector<int>& out) const;
};

void Tokenizer::Impl::bpe(std::string_view word, std::vector<int>& out) const {
  // Symbols form a linked list over the word's bytes; a merge folds the right
  // symbol into the left one, so a symbol's index is the byte position where
  // it starts and orders candidates left to right.
  struct Symbol {
    int id;    // -1 once merged into its left neighbour
    int prev;  // -1 at the start
    int next;  // -1 at the end
  };
  const int n = static_cast<int>(word.size());
  std::vector<Symbol> symbols(n);
  for (int i = 0; i < n; ++i) {
    const unsigned char b = static_cast<unsigned char>(word[i]);
    if (byte_token[b] < 0) {
      throw Error("cannot encode byte " + hex_byte(b) + ": " + kVocabFile + " has no token for it");
    }
    symbols[i] = {byte_token[b], i - 1, i + 1 < n ? i + 1 : -1};
  }
  // The merge of the pair starting at symbol `left`, or null.
  const auto merge_at = [&](int left) -> const Merge* {
    if (left < 0 || symbols[left].id < 0 || symbols[left].next < 0) return nullptr;
    return merges.find(pair_key(symbols[left].id, symbols[symbols[left].next].id));
  };
  // Min-heap of candidates (rank << 32 | left): lowest rank first, then
  // leftmost, which is the reference's order of merges.
  std::vector<uint64_t> heap;
  const auto candidate = [](int rank, int left) {
    return (static_cast<uint64_t>(rank) << 32) | static_cast<uint32_t>(left);
  };
  for (int i = 0; i + 1 < n; ++i) {
    if (const Merge* merge = merge_at(i)) heap.push_back(candidate(merge->rank, i));
  }
  const std::greater<uint64_t> later;
  std::make_heap(heap.begin(), heap.end(), later);
  const auto push = [&](int left) {
    if (const Merge* merge = merge_at(left)) {
      heap.push_back(candidate(merge->rank, left));
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const uint64_t top = heap.back();
    heap.pop_back();
    const int rank = static_cast<int>(top >> 32);
    const int left = static_cast<int>(top & 0xFFFFFFFFu);
    // Stale if the pair there changed since it was queued; a pair's rank
    // identifies it, so an unchanged rank means the same pair.
    const Merge* merge = merge_at(left);
    if (!merge || merge->rank != rank) continue;
    Symbol& right = symbols[symbols[left].next];
    symbols[left].id = merge->merged_id;
    symbols[left].next = right.next;
    if (right.next >= 0) symbols[right.next].prev = left;
    right.id = -1;
    push(symbols[left].prev);
    push(left);
  }
  for (int i = 0; i >= 0 && n > 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

void Tokenizer::Impl::encode_word(std::string_view word, std::vector<int>& out) const {
  if (word.size() == 1) {
    const unsigned char b = static_cast<unsigned char>(word[0]);
    if (byte_token[b] >= 0) {
      out.push_back(byte_token[b]);
      return;
    }
  }
  if (word.size() > kMaxCachedWordBytes) {
    bpe(word, out);
    return;
  }
  std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = cache.find(key);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  bpe(word, out);
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (cache.size() >= kMaxCacheEntries) cache.clear();  // bound memory on huge corpora
  cache.emplace(std::move(key), std::vector<int>(out.begin() + first, out.end()));
}

// --------------------------------------------------------------- loading ----

namespace {

// vocab.json read with nlohmann's SAX interface: a flat object of token -> id
// needs no DOM, and skipping it makes loading GPT-2's 50k tokens ~3x faster.
// Stops at the first value that is not an integer and remembers why.
class VocabReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::pair<std::string, long long>> entries;
  std::string problem;  // set when parsing stopped early

  bool null() override { return not_an_id("null"); }
  bool boolean(bool value) override { return not_an_id(value ? "true" : "false"); }
  bool number_integer(number_integer_t value) override { return id(value); }
  bool number_unsigned(number_unsigned_t value) override {
    return id(value > static_cast<number_unsigned_t>(std::numeric_limits<long long>::max())
                  ? std::numeric_limits<long long>::max()
                  : static_cast<long long>(value));
  }
  bool number_float(number_float_t, const string_t& text) override { return not_an_id(text); }
  bool string(string_t& value) override { return not_an_id(nlohmann::json(value).dump()); }
  bool binary(binary_t&) override { return not_an_id("binary"); }
  bool start_object(std::size_t) override {
    if (depth_++ == 0) return true;
    return not_an_id("an object");
  }
  bool key(string_t& token) override {
    key_ = std::move(token);
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) {
      problem = "expected a JSON object of token -> id, got an array";
      return false;
    }
    return not_an_id("an array");
  }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    problem = std::string("not valid JSON (") + e.what() + ")";
    return false;
  }

 private:
  bool id(long long value) {
    if (depth_ == 0) return top_level_not_object("a number");
    entries.emplace_back(std::move(key_), value);
    return true;
  }
  bool not_an_id(const std::string& value) {
    if (depth_ == 0) return top_level_not_object(value);
    problem = "the id of token \"" + key_ + "\" is not an integer (" + value + ")";
    return false;
  }
  bool top_level_not_object(const std::string& value) {
    problem = "expected a JSON object of token -> id, got " + value;
    return false;
  }

  int depth_ = 0;
  std::string key_;
};

}  // namespace

Tokenizer::Tokenizer(const std::string& vocab_json, const std::string& merges_txt) {
  auto impl = std::make_shared<Impl>();
  const std::vector<char32_t> byte_to_cp = bytes_to_unicode();
  // Inverse of bytes_to_unicode; the symbols are all below U+0144.
  constexpr char32_t kSymbolLimit = 0x144;
  int cp_to_byte[kSymbolLimit];
  std::fill(std::begin(cp_to_byte), std::end(cp_to_byte), -1);
  for (int b = 0; b < 256; ++b) cp_to_byte[byte_to_cp[b]] = b;
  const std::string vocab_where = std::string(kVocabFile) + ": ";

  // vocab.json: {"token": id, ...}, ids exactly 0..n-1.
  VocabReader reader;
  if (!nlohmann::json::sax_parse(vocab_json, &reader) || !reader.problem.empty()) {
    throw Error(vocab_where + reader.problem);
  }
  const size_t n_vocab = reader.entries.size();
  if (n_vocab == 0) throw Error(vocab_where + "the vocabulary is empty");
  id_to_bytes_.assign(n_vocab, std::string());
  // Views into reader.entries, which outlives both.
  std::vector<std::string_view> id_to_token(n_vocab);
  std::unordered_map<std::string_view, int> token_to_id;
  token_to_id.reserve(n_vocab);
  for (const auto& [token, id] : reader.entries) {
    if (id < 0 || id >= static_cast<long long>(n_vocab)) {
      throw Error(vocab_where + "token \"" + token + "\" has id " + std::to_string(id) +
                  ", outside 0.." + std::to_string(n_vocab - 1) + " (ids must be dense)");
    }
    if (id_to_token[id].data()) {
      throw Error(vocab_where + "id " + std::to_string(id) + " is used by both \"" +
                  std::string(id_to_token[id]) + "\" and \"" + token + "\"");
    }
    const auto [it, inserted] = token_to_id.emplace(token, static_cast<int>(id));
    if (!inserted) throw Error(vocab_where + "token \"" + token + "\" appears twice");
    id_to_token[id] = it->first;
    // Token text -> bytes through the inverse of bytes_to_unicode.
    std::string& bytes = id_to_bytes_[id];
    bytes.reserve(token.size());
    for (size_t i = 0; i < token.size();) {
      const size_t len = utf8_char_length(token, i);
      const char32_t cp = len ? utf8_decode(token, i, len) : kSymbolLimit;
      if (cp >= kSymbolLimit || cp_to_byte[cp] < 0) {
        throw Error(vocab_where + "token \"" + token +
                    "\" holds a character that is not one of GPT-2's 256 byte symbols");
      }
      bytes += static_cast<char>(cp_to_byte[cp]);
      i += len;
    }
    if (bytes.empty()) throw Error(vocab_where + "the empty string is a token");
  }
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    utf8_append(symbol, byte_to_cp[b]);
    const auto it = token_to_id.find(symbol);
    impl->byte_token[b] = it == token_to_id.end() ? -1 : it->second;
  }

  // merges.txt: optional "#version" line, then "left right" per line, rank =
  // line order. Blank lines are allowed only at the end.
  std::vector<int> rank_line;  // line number of each rank, for messages
  int first_blank_line = 0;
  std::string merged;
  size_t line_start = 0;
  for (int line_number = 1; line_start < merges_txt.size(); ++line_number) {
    size_t line_end = merges_txt.find('\n', line_start);
    if (line_end == std::string::npos) line_end = merges_txt.size();
    std::string_view line(merges_txt.data() + line_start, line_end - line_start);
    line_start = line_end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_number == 1 && line.substr(0, 8) == "#version") continue;
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      if (!first_blank_line) first_blank_line = line_number;
      continue;
    }
    if (first_blank_line) {
      throw Error(std::string(kMergesFile) + " line " + std::to_string(first_blank_line) +
                  ": blank line before the last merge");
    }
    const auto where = [&] {
      return std::string(kMergesFile) + " line " + std::to_string(line_number) + ": ";
    };
    std::string_view parts[2];
    int n_parts = 0;
    for (size_t i = 0; i < line.size();) {
      if (line[i] == ' ' || line[i] == '\t') {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (n_parts < 2) parts[n_parts] = line.substr(i, j - i);
      ++n_parts;
      i = j;
    }
    if (n_parts != 2) {
      throw Error(where() + "expected two tokens separated by a space, got " +
                  std::to_string(n_parts) + " (\"" + std::string(line) + "\")");
    }
    merged.assign(parts[0]).append(parts[1]);
    const auto find = [&](std::string_view token, const char* role) {
      const auto it = token_to_id.find(token);
      if (it == token_to_id.end()) {
        throw Error(where() + "the " + role + " \"" + std::string(token) + "\" is not in " +
                    kVocabFile);
      }
      return it->second;
    };
    const int left_id = find(parts[0], "left part");
    const int right_id = find(parts[1], "right part");
    const int merged_id = find(merged, "merged token");
    const int rank = static_cast<int>(rank_line.size());
    const auto [existing, inserted] =
        impl->merges.insert(pair_key(left_id, right_id), Impl::Merge{rank, merged_id});
    if (!inserted) {
      throw Error(where() + "duplicate merge \"" + std::string(parts[0]) + " " +
                  std::string(parts[1]) + "\" (first on line " +
                  std::to_string(rank_line[existing->rank]) + ")");
    }
    rank_line.push_back(line_number);
  }
  impl_ = std::move(impl);
}

// --------------------------------------------------------------- encoding ----

std::vector<int> Tokenizer::encode(const std::string& text) const {
  bool complete = true;
  return encode_prefix(text, SIZE_MAX, &complete);
}

std::vector<int> Tokenizer::encode_prefix(const std::string& text, size_t max_tokens,
                                          bool* complete) const {
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad)) {
    throw Error("text is not valid UTF-8: byte " + hex_byte(static_cast<unsigned char>(text[bad])) +
                " at offset " + std::to_string(bad));
  }
  std::vector<int> ids;
  ids.reserve(std::min(text.size() / 3 + 1, max_tokens == SIZE_MAX ? text.size() : max_tokens + 64));
  PreTokenizer pre(text);
  size_t begin, end;
  *complete = true;
  while (pre.next(&begin, &end)) {
    if (ids.size() >= max_tokens) {
      *complete = false;
      break;
    }
    impl_->encode_word(std::string_view(text).substr(begin, end - begin), ids);
  }
  if (ids.size() > max_tokens) {
    ids.resize(max_tokens);
    *complete = false;
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) out += token_bytes(id);
  return out;
}

std::string Tokenizer::token_bytes(int id) const {
  if (id < 0 || id >= vocab_size()) {
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                std::to_string(vocab_size() - 1) + ")");
  }
  return id_to_bytes_[id];
}

std::string Tokenizer::token_display(int id) const {
  const std::string bytes = token_bytes(id);
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    const size_t len = utf8_char_length(bytes, i);
    if (len > 0) {
      out.append(bytes, i, len);
      i += len;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned char>(bytes[i]));
      out += escaped;
      ++i;
    }
  }
  return out;
}

bool is_valid_utf8(const std::string& s, size_t* bad_offset) {
  for (size_t i = 0; i < s.size();) {
    // ASCII fast path: 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t chunk;
      std::memcpy(&chunk, s.data() + i, 8);
      if (chunk & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const size_t len = utf8_char_length(s, i);
    if (len == 0) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

std::vector<int> encode_documents(const Tokenizer& tokenizer, const std::string& text) {
  std::vector<int> ids;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find("\n\n", begin + 1 < text.size() ? begin + 1 : text.size());
    end = end == std::string::npos ? text.size() : end;
    while (end < text.size() && text[end] == '\n') ++end;
    const std::vector<int> part = tokenizer.encode(text.substr(begin, end - begin));
    ids.insert(ids.end(), part.begin(), part.end());
    begin = end;
  }
  return ids;
}

}  // namespace hl
