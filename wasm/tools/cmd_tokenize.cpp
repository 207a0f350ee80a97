// headlight tokenize --model DIR [--decode]
//   encode (default): UTF-8 text on stdin -> token ids, space-separated, on one
//                     line (empty input -> empty line).
//   --decode:         whitespace-separated ids on stdin -> their exact bytes on
//                     stdout (the inverse, used by the round-trip test).
// DIR needs only vocab.json and merges.txt.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "error.h"
#include "model_dir.h"
#include "tokenizer.h"

namespace {

const char* kUsageLine = "usage: headlight tokenize --model DIR [--decode]";
const char* kTokenizeUsage =
    "usage: headlight tokenize --model DIR [--decode]\n"
    "  reads UTF-8 text on stdin, prints the token ids space-separated on one line\n"
    "  --decode  read ids on stdin instead and print the bytes they stand for\n";

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
  bool decode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model" && i + 1 < argc) {
      model_dir = argv[++i];
    } else if (arg == "--decode") {
      decode = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kTokenizeUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "headlight tokenize: unexpected argument '%s' (%s)\n", arg.c_str(),
                   kUsageLine);
      return 2;
    }
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
  size_t bad = 0;
  if (!hl::is_valid_utf8(input, &bad)) {
    std::fprintf(stderr,
                 "headlight tokenize: stdin is not valid UTF-8: byte 0x%02X at offset %zu\n",
                 static_cast<unsigned char>(input[bad]), bad);
    return 1;
  }
  const std::vector<int> ids = tokenizer.encode(input);
  std::string line;
  line.reserve(ids.size() * 6 + 1);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}
