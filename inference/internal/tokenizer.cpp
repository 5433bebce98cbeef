// Word scanning and the public tokenize().
#include "inference/internal/tokenizer.hpp"

#include "inference/internal/char_class.hpp"
#include "inference/text_analysis.hpp"

namespace hive::inference {
namespace internal {
namespace {

bool breaks_clause(char c) noexcept {
  switch (c) {
    case ',': case ';': case ':': case '.': case '!': case '?':
    case '(': case ')': case '[': case ']': case '{': case '}':
      return true;
    default:
      return false;
  }
}

// Whether the apostrophe, '.' or ',' at `pos` continues the word whose last character had
// kind `last`.
bool joins_word(std::string_view text, size_t pos, const char_info& ch, char_kind last) {
  const size_t next_pos = pos + ch.length;
  if (next_pos >= text.size())
    return false;
  const char_kind next = classify_char(text, next_pos).kind;
  if (ch.kind == char_kind::apostrophe)
    return is_word_kind(next);
  const char c = text[pos];
  return (c == '.' || c == ',') && last == char_kind::digit && next == char_kind::digit;
}

} // namespace

std::vector<word_span> scan_words(std::string_view text, std::string& buffer) {
  std::vector<word_span> words;
  words.reserve(text.size() / 6 + 1);
  buffer.reserve(buffer.size() + text.size()); // normalising never makes a word longer
  word_span current;
  bool in_word = false;
  bool clause_break = true;
  char_kind last = char_kind::separator;
  size_t pos = 0;
  while (pos < text.size()) {
    const char_info ch = classify_char(text, pos);
    if (is_word_kind(ch.kind)) {
      if (!in_word) {
        current = word_span{buffer.size(), 0, pos, clause_break};
        in_word = true;
        clause_break = false;
      }
      for (size_t k = 0; k < ch.length; ++k) {
        const char c = text[pos + k];
        buffer.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      }
      last = ch.kind;
    } else if (in_word && joins_word(text, pos, ch, last)) {
      buffer.push_back(ch.kind == char_kind::apostrophe ? '\'' : text[pos]);
    } else {
      if (in_word) {
        current.end = buffer.size();
        words.push_back(current);
        in_word = false;
      }
      // Dashes (U+2013, U+2014) separate clauses as well.
      const bool dash = ch.length == 3 && static_cast<unsigned char>(text[pos]) == 0xE2 &&
                        (static_cast<unsigned char>(text[pos + 2]) == 0x93 ||
                         static_cast<unsigned char>(text[pos + 2]) == 0x94);
      if ((ch.length == 1 && breaks_clause(text[pos])) || dash)
        clause_break = true;
    }
    pos += ch.length;
  }
  if (in_word) {
    current.end = buffer.size();
    words.push_back(current);
  }
  return words;
}

std::string_view term_key(std::string_view word) noexcept {
  if (word.size() > 2 && word.substr(word.size() - 2) == "'s")
    word.remove_suffix(2);
  return word;
}

} // namespace internal

std::vector<std::string> tokenize(std::string_view text) {
  std::string buffer;
  const auto spans = internal::scan_words(text, buffer);
  std::vector<std::string> tokens;
  tokens.reserve(spans.size());
  for (const auto& span : spans)
    tokens.emplace_back(buffer, span.begin, span.end - span.begin);
  return tokens;
}

} // namespace hive::inference
