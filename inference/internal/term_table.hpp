// Term counts of one text and their TF-IDF weights, the basis for keywords and the summary.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "inference/text_analysis.hpp"

namespace hive::inference::internal {

/// One distinct term of the analysed text.
struct term_stat {
  std::string_view term; ///< term key (possessive 's dropped); views the caller's word buffer
  size_t count = 0;
  double weight = 0; ///< (count / word count) * idf for keyword candidates, 0 for other terms
};

/// The distinct terms of a text and which term each word is.
struct term_table {
  std::vector<term_stat> terms;     ///< sorted by term
  std::vector<size_t> term_of_word; ///< index into `terms`, one per word
  size_t distinct_words = 0;        ///< distinct words as tokenized (before dropping 's)
};

/// Counts `words` (normalised, in text order) by term key and weights the keyword candidates:
/// terms of two or more characters that are not numbers or stop words.
term_table build_term_table(const std::vector<std::string_view>& words);

/// The `max_keywords` candidates with the largest weight, best first, ties in alphabetical order.
std::vector<keyword> top_keywords(const term_table& table, size_t max_keywords);

} // namespace hive::inference::internal
