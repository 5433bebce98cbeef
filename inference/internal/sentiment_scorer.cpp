// Lexicon sentiment: negation scope, intensifiers and the normalisation into -1..1.
#include "inference/internal/sentiment_scorer.hpp"

#include <algorithm>
#include <cmath>

#include "inference/internal/sentiment_lexicon.hpp"

namespace hive::inference::internal {
namespace {

constexpr int negation_scope = 3;
constexpr double max_boost = 1.5 * 1.5;
// Larger values make the score approach +-1 more slowly as hits accumulate.
constexpr double normalisation_alpha = 15;
constexpr double label_threshold = 0.05;

} // namespace

void sentiment_scorer::add_word(std::string_view word, bool starts_clause) {
  if (starts_clause || is_clause_connector(word)) {
    negation_left_ = 0;
    boost_ = 1;
  }
  if (is_negator(word)) {
    negation_left_ = negation_scope;
    boost_ = 1;
    return;
  }
  const double factor = intensity_factor(word);
  const double weight = factor == 1 ? lexicon_weight(word) : 0;
  if (weight != 0) {
    const double value = negation_left_ > 0 ? -weight * boost_ : weight * boost_;
    sum_ += value;
    ++(value > 0 ? positive_hits_ : negative_hits_);
  }
  // Intensifiers chain ("really very good"); any other word uses up the boost.
  boost_ = factor == 1 ? 1 : std::clamp(boost_ * factor, 0.0, max_boost);
  if (negation_left_ > 0)
    --negation_left_;
}

sentiment sentiment_scorer::result() const {
  sentiment out;
  out.score = sum_ / std::sqrt(sum_ * sum_ + normalisation_alpha);
  out.label = out.score >= label_threshold    ? "positive"
              : out.score <= -label_threshold ? "negative"
                                              : "neutral";
  out.positive_hits = positive_hits_;
  out.negative_hits = negative_hits_;
  return out;
}

} // namespace hive::inference::internal
