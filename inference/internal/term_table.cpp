// Term counting by sorting word indices, TF-IDF weights and keyword selection.
#include "inference/internal/term_table.hpp"

#include <algorithm>
#include <numeric>

#include "inference/internal/background_corpus.hpp"
#include "inference/internal/stop_words.hpp"
#include "inference/internal/tokenizer.hpp"

namespace hive::inference::internal {
namespace {

bool is_number(std::string_view term) {
  return std::all_of(term.begin(), term.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == ','; });
}

size_t code_point_count(std::string_view term) {
  // UTF-8 continuation bytes (10xxxxxx) do not start a character.
  return static_cast<size_t>(std::count_if(term.begin(), term.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool is_keyword_candidate(std::string_view term) {
  return code_point_count(term) >= 2 && !is_number(term) && !is_stop_word(term);
}

} // namespace

term_table build_term_table(const std::vector<std::string_view>& words) {
  term_table table;
  table.term_of_word.resize(words.size());
  std::vector<std::string_view> keys(words.size());
  for (size_t i = 0; i < words.size(); ++i)
    keys[i] = term_key(words[i]);
  // Sorting by (key, word) puts equal words next to each other inside each term's run.
  std::vector<size_t> order(words.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int by_key = keys[a].compare(keys[b]);
    return by_key != 0 ? by_key < 0 : words[a] < words[b];
  });
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (k == 0 || words[i] != words[order[k - 1]])
      ++table.distinct_words;
    if (table.terms.empty() || table.terms.back().term != keys[i])
      table.terms.push_back(term_stat{keys[i], 0, 0});
    ++table.terms.back().count;
    table.term_of_word[i] = table.terms.size() - 1;
  }
  const double total = static_cast<double>(words.size());
  for (auto& stat : table.terms)
    if (is_keyword_candidate(stat.term))
      stat.weight = static_cast<double>(stat.count) / total * inverse_document_frequency(stat.term);
  return table;
}

std::vector<keyword> top_keywords(const term_table& table, size_t max_keywords) {
  std::vector<const term_stat*> candidates;
  for (const auto& stat : table.terms)
    if (stat.weight > 0)
      candidates.push_back(&stat);
  const size_t n = std::min(max_keywords, candidates.size());
  const auto better = [](const term_stat* a, const term_stat* b) {
    return a->weight != b->weight ? a->weight > b->weight : a->term < b->term;
  };
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                    candidates.end(), better);
  std::vector<keyword> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back(keyword{std::string(candidates[i]->term), candidates[i]->weight});
  return out;
}

} // namespace hive::inference::internal
