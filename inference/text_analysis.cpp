// analyze_text: runs the tokenizer, sentence splitter, term table, sentiment and summary once.
#include "inference/text_analysis.hpp"

#include "inference/internal/sentence_splitter.hpp"
#include "inference/internal/sentiment_scorer.hpp"
#include "inference/internal/summarizer.hpp"
#include "inference/internal/term_table.hpp"
#include "inference/internal/tokenizer.hpp"

namespace hive::inference {

text_analysis analyze_text(std::string_view text, const analyze_options& opts) {
  std::string buffer;
  const auto spans = internal::scan_words(text, buffer);
  const auto sentences = internal::sentence_spans(text);

  std::vector<std::string_view> words;
  std::vector<size_t> positions;
  words.reserve(spans.size());
  positions.reserve(spans.size());
  for (const auto& span : spans) {
    words.push_back(std::string_view(buffer).substr(span.begin, span.end - span.begin));
    positions.push_back(span.source_pos);
  }
  // Every word lies inside some sentence, so sentences is not empty when words is not.
  const auto sentence_of_word =
      sentences.empty() ? std::vector<size_t>(words.size(), 0)
                        : internal::span_index_of(positions, sentences);

  text_analysis result;
  result.token_count = words.size();
  result.sentence_count = sentences.size();

  internal::sentiment_scorer scorer;
  for (size_t i = 0; i < words.size(); ++i) {
    const bool new_sentence = i > 0 && sentence_of_word[i] != sentence_of_word[i - 1];
    scorer.add_word(words[i], spans[i].starts_clause || new_sentence);
  }
  result.sentiment = scorer.result();

  const auto table = internal::build_term_table(words);
  result.unique_token_count = table.distinct_words;
  result.keywords = internal::top_keywords(table, opts.max_keywords);

  std::vector<double> word_weight(words.size());
  for (size_t i = 0; i < words.size(); ++i)
    word_weight[i] = table.terms[table.term_of_word[i]].weight;
  result.summary = internal::extractive_summary(text, sentences, sentence_of_word, word_weight,
                                                opts.summary_sentences);
  return result;
}

} // namespace hive::inference
