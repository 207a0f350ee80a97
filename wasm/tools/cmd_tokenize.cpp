// headlight tokenize --model DIR [--decode] | headlight tokenize --pretokens
//   encode (default): UTF-8 text on stdin -> token ids, space-separated, on one
//                     line (empty input -> empty line).
//   --decode:         whitespace-separated ids on stdin -> their exact bytes on
//                     stdout (the inverse, used by the round-trip test).
//   --pretokens:      UTF-8 text on stdin -> the byte offset where each GPT-2
//                     pre-token ends, on one line (tests the pre-tokeniser
//                     against the JS regex without BPE in between; no model).
// DIR needs only vocab.json and merges.txt.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "error.h"
#include "model_dir.h"
#include "pretokenizer.h"
#include "tokenizer.h"

namespace {

const char* kUsageLine = "usage: headlight tokenize --model DIR [--decode] | --pretokens";
const char* kTokenizeUsage =
    "usage: headlight tokenize --model DIR [--decode] | --pretokens\n"
    "  reads UTF-8 text on stdin, prints the token ids space-separated on one line\n"
    "  --decode     read ids on stdin instead and print the bytes they stand for\n"
    "  --pretokens  print the byte offset where each GPT-2 pre-token ends (no model)\n";

void print_line(const std::vector<size_t>& values) {
  std::string line;
  line.reserve(values.size() * 7 + 1);
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(values[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// Exits with the one-line message if stdin is not UTF-8.
bool check_utf8(const std::string& input) {
  size_t bad = 0;
  if (hl::is_valid_utf8(input, &bad)) return true;
  std::fprintf(stderr, "headlight tokenize: stdin is not valid UTF-8: byte 0x%02X at offset %zu\n",
               static_cast<unsigned char>(input[bad]), bad);
  return false;
}

std::string read_stdin() {
  std::string bytes;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) bytes.append(buffer, n);
  if (std::ferror(stdin)) throw hl::Error("cannot read stdin");
  return bytes;
}

std::vector<int> parse_ids(const std::string& text) {
  std::vector<int> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (std::strchr(" \t\r\n", text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 9 || (j < text.size() && !std::strchr(" \t\r\n", text[j]))) {
      size_t k = i;
      while (k < text.size() && !std::strchr(" \t\r\n", text[k])) ++k;
      throw hl::Error("stdin: \"" + text.substr(i, std::min<size_t>(k - i, 20)) + "\" at offset " +
                      std::to_string(i) + " is not a token id");
    }
    ids.push_back(std::stoi(text.substr(i, j - i)));
    i = j;
  }
  return ids;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  std::string model_dir;
  bool decode = false, pretokens = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "headlight tokenize: option --model needs a value (%s)\n", kUsageLine);
        return 2;
      }
      model_dir = argv[++i];
    } else if (arg == "--decode") {
      decode = true;
    } else if (arg == "--pretokens") {
      pretokens = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kTokenizeUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "headlight tokenize: unexpected argument '%s' (%s)\n", arg.c_str(),
                   kUsageLine);
      return 2;
    }
  }
  if (pretokens) {
    const std::string input = read_stdin();
    if (!check_utf8(input)) return 1;
    std::vector<size_t> ends;
    hl::PreTokenizer pre(input);
    size_t begin, end;
    while (pre.next(&begin, &end)) ends.push_back(end);
    print_line(ends);
    return 0;
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "headlight tokenize: --model DIR is required (%s)\n", kUsageLine);
    return 2;
  }
  // Read in this order so a folder missing both names vocab.json first.
  const std::string vocab_json = read_file(model_file(model_dir, "vocab.json"));
  const std::string merges_txt = read_file(model_file(model_dir, "merges.txt"));
  const hl::Tokenizer tokenizer(vocab_json, merges_txt);
  const std::string input = read_stdin();

  if (decode) {
    const std::string bytes = tokenizer.decode(parse_ids(input));
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return 0;
  }
  if (!check_utf8(input)) return 1;
  const std::vector<int> ids = tokenizer.encode(input);
  print_line(std::vector<size_t>(ids.begin(), ids.end()));
  return 0;
}
