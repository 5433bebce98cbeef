// Byte-level character classes shared by the tokenizer and the sentence splitter (UTF-8 tolerant).
#pragma once

#include <cstddef>
#include <string_view>

namespace hive::inference::internal {

/// What one character is to the tokenizer.
enum class char_kind {
  separator,  ///< whitespace, ASCII punctuation, Latin-1 symbols, General Punctuation (U+2000..)
  letter,     ///< ASCII letter or any other byte >= 0x80, so accented words stay whole
  digit,      ///< ASCII 0-9
  apostrophe, ///< ' or U+2019; part of a word only between two word characters
};

/// A classified character and how many bytes it takes.
struct char_info {
  char_kind kind = char_kind::separator;
  size_t length = 1; ///< 1..3
};

/// Classifies the character that starts at `text[pos]`. Precondition: pos < text.size().
/// Never reads past the end of `text`; bytes of invalid UTF-8 come out as one-byte letters.
char_info classify_char(std::string_view text, size_t pos) noexcept;

/// True for the kinds a word is made of (letters and digits).
inline bool is_word_kind(char_kind kind) noexcept {
  return kind == char_kind::letter || kind == char_kind::digit;
}

/// True for ASCII whitespace.
inline bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

} // namespace hive::inference::internal
