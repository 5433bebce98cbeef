// Text analysis behind the `nlp.analyze` executor: tokens, keywords (TF-IDF), sentiment, summary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hive::inference {

/// A keyword of the analysed text.
struct keyword {
  std::string term;
  double score = 0; ///< TF-IDF against the built-in background corpus
};

/// Lexicon sentiment of a text. Negators ("not", "never", "...n't") flip the sign of sentiment
/// words among the next three words; intensifiers ("very") scale the next one by 1.5. The sum s
/// of word weights (1..3 and -1..-3) becomes score = s / sqrt(s * s + 15).
struct sentiment {
  double score = 0;              ///< -1 (negative) .. 1 (positive)
  std::string label = "neutral"; ///< "positive" (>= 0.05), "negative" (<= -0.05) or "neutral"
  int positive_hits = 0;         ///< sentiment words that counted positive, after negation
  int negative_hits = 0;         ///< sentiment words that counted negative, after negation
};

/// Everything analyze_text finds in one text.
struct text_analysis {
  size_t token_count = 0;
  size_t unique_token_count = 0;
  size_t sentence_count = 0;
  std::vector<keyword> keywords; ///< best first
  hive::inference::sentiment sentiment;
  std::string summary; ///< the most informative sentences, in their original order
};

/// Limits for analyze_text.
struct analyze_options {
  size_t max_keywords = 10;
  size_t summary_sentences = 2;
};

/// Pure function of the text; thread-safe (the built-in tables are immutable after first use).
/// Any bytes are accepted, including invalid UTF-8. Keywords are terms of two or more characters
/// that are not stop words or numbers, scored (count / token_count) * idf, ties in alphabetical
/// order; a trailing possessive 's is dropped first ("hive's" counts as "hive"). The summary
/// scores sentences by the keyword weight of their words over sqrt(word count).
text_analysis analyze_text(std::string_view text, const analyze_options& opts = {});

/// Lower-cased word tokens (letters, digits, apostrophes inside words), in order.
/// Only ASCII letters are lower-cased; other bytes >= 0x80 count as letters and are kept as they
/// are, except common Unicode punctuation and spaces, which separate words. U+2019 inside a word
/// becomes ', and a . or , between digits stays in the token ("3.5", "1,000").
std::vector<std::string> tokenize(std::string_view text);

/// Sentences split on . ! ? (keeping abbreviations like "e.g." and numbers like 3.5 intact).
/// Blank lines also end a sentence; whitespace runs inside one become a single space, and pieces
/// without a letter or digit are dropped.
std::vector<std::string> split_sentences(std::string_view text);

} // namespace hive::inference
