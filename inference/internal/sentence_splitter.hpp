// Sentence boundaries: where sentences start and end in a text, without copying it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hive::inference::internal {

/// Bytes [begin, end) of one sentence in the analysed text, without surrounding whitespace.
struct text_span {
  size_t begin = 0;
  size_t end = 0;
};

/// The sentences of `text`, in order. A sentence ends after a run of . ! ? (and any closing
/// quotes or brackets) that is followed by whitespace, or at a blank line. Known abbreviations
/// ("e.g.", "Dr.", "etc." before a lower-case word), initials ("J. Smith") and numbers (3.5) do
/// not end one. Pieces without any letter or digit are dropped.
std::vector<text_span> sentence_spans(std::string_view text);

/// The sentence as shown to users: each run of whitespace becomes one space.
std::string sentence_text(std::string_view text, text_span span);

/// For each position in `positions` (ascending), the index of the span that holds it, or of the
/// nearest span before it. Precondition: `spans` is not empty.
std::vector<size_t> span_index_of(const std::vector<size_t>& positions,
                                  const std::vector<text_span>& spans);

} // namespace hive::inference::internal
