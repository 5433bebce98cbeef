// Lexicon sentiment over a stream of words, with negation and intensifiers.
#pragma once

#include <string_view>

#include "inference/text_analysis.hpp"

namespace hive::inference::internal {

/// Adds up lexicon weights word by word. A negator flips the sign of sentiment words among the
/// next three words; an intensifier scales the sentiment word right after it. Both stop at a
/// clause boundary. Not thread-safe; one scorer per analysed text.
class sentiment_scorer {
public:
  /// Feeds the next normalised word. `starts_clause`: punctuation or a new sentence comes before
  /// it, which ends any negation or intensifier in force.
  void add_word(std::string_view word, bool starts_clause);

  /// Score, label and hit counts for the words fed so far. The raw sum s is mapped into (-1, 1)
  /// by s / sqrt(s * s + 15); the label is "positive" at >= 0.05, "negative" at <= -0.05.
  sentiment result() const;

private:
  double sum_ = 0;
  int positive_hits_ = 0;
  int negative_hits_ = 0;
  int negation_left_ = 0; // words still inside the scope of the last negator
  double boost_ = 1;      // product of the intensifiers just before the current word
};

} // namespace hive::inference::internal
