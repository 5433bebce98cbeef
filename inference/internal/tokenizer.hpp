// Word scanning: finds the words of a text and writes their normalised (lower-cased) form.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hive::inference::internal {

/// One word: bytes [begin, end) of the normalised buffer, and where it starts in the source text.
struct word_span {
  size_t begin = 0;
  size_t end = 0;
  size_t source_pos = 0;
  bool starts_clause = false; ///< first word, or punctuation such as , ; : ( . stands before it
};

/// Appends the normalised words of `text` to `buffer` and returns where each one lies in it.
/// Normalising lower-cases ASCII, turns U+2019 into ', and keeps other bytes as they are.
/// A word is a run of letters and digits; an apostrophe between two word characters and a . or ,
/// between two digits (3.5, 1,000) stay inside it.
std::vector<word_span> scan_words(std::string_view text, std::string& buffer);

/// The word used for counting terms: a trailing possessive 's is dropped ("hive's" -> "hive").
std::string_view term_key(std::string_view word) noexcept;

} // namespace hive::inference::internal
