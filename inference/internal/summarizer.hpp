// Extractive summary: picks a text's most informative sentences and keeps their order.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "inference/internal/sentence_splitter.hpp"

namespace hive::inference::internal {

/// Scores each sentence as the sum of its words' weights divided by sqrt(its word count), takes
/// the `max_sentences` best (earlier first on ties) and joins them with one space in text order.
/// With no more than `max_sentences` sentences, all of them are returned. `sentence_of_word` and
/// `word_weight` run parallel, one entry per word of `text`.
std::string extractive_summary(std::string_view text, const std::vector<text_span>& sentences,
                               const std::vector<size_t>& sentence_of_word,
                               const std::vector<double>& word_weight, size_t max_sentences);

} // namespace hive::inference::internal
