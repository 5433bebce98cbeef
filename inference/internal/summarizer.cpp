// Extractive summary by length-normalised TF-IDF sentence scores.
#include "inference/internal/summarizer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hive::inference::internal {
namespace {

std::string join(std::string_view text, const std::vector<text_span>& sentences,
                 const std::vector<size_t>& chosen) {
  std::string out;
  for (const size_t index : chosen) {
    if (!out.empty())
      out.push_back(' ');
    out += sentence_text(text, sentences[index]);
  }
  return out;
}

} // namespace

std::string extractive_summary(std::string_view text, const std::vector<text_span>& sentences,
                               const std::vector<size_t>& sentence_of_word,
                               const std::vector<double>& word_weight, size_t max_sentences) {
  if (max_sentences == 0 || sentences.empty())
    return {};
  std::vector<size_t> chosen(sentences.size());
  std::iota(chosen.begin(), chosen.end(), size_t{0});
  if (sentences.size() <= max_sentences)
    return join(text, sentences, chosen);

  std::vector<double> weight_sum(sentences.size(), 0.0);
  std::vector<size_t> word_count(sentences.size(), 0);
  for (size_t i = 0; i < sentence_of_word.size() && i < word_weight.size(); ++i) {
    const size_t s = sentence_of_word[i];
    if (s >= sentences.size())
      continue;
    weight_sum[s] += word_weight[i];
    ++word_count[s];
  }
  std::vector<double> score(sentences.size(), 0.0);
  for (size_t s = 0; s < sentences.size(); ++s)
    if (word_count[s] > 0)
      score[s] = weight_sum[s] / std::sqrt(static_cast<double>(word_count[s]));
  std::partial_sort(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(max_sentences),
                    chosen.end(), [&](size_t a, size_t b) {
                      return score[a] != score[b] ? score[a] > score[b] : a < b;
                    });
  chosen.resize(max_sentences);
  std::sort(chosen.begin(), chosen.end());
  return join(text, sentences, chosen);
}

} // namespace hive::inference::internal
