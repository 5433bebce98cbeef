// The sentiment lexicon that ships with Hive: word weights, negators and intensifiers.
#pragma once

#include <string_view>

namespace hive::inference::internal {

/// Weight of `word` in the lexicon: 1..3 for positive words, -1..-3 for negative ones, 0 when the
/// word carries no sentiment. `word` is normalised, as from the tokenizer. Thread-safe.
double lexicon_weight(std::string_view word);

/// True if `word` negates what follows ("not", "never", "no", and any "...n't").
bool is_negator(std::string_view word);

/// How much `word` scales the next sentiment word: 1.5 for intensifiers ("very"), 0.5 for
/// softeners ("slightly"), 1 for every other word.
double intensity_factor(std::string_view word);

/// True if `word` starts a new clause that ends any negation ("but", "however").
bool is_clause_connector(std::string_view word);

} // namespace hive::inference::internal
