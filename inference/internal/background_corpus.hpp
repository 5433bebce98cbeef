// The built-in background corpus that keyword scores are weighed against (document frequency).
#pragma once

#include <cstddef>
#include <string_view>

namespace hive::inference::internal {

/// Number of documents in the background corpus.
size_t background_document_count();

/// idf(term) = ln((N + 1) / (df + 1)) + 1, where N is the number of background documents and df
/// how many of them contain `term` (a term key, as from term_key()). Terms the corpus never uses
/// get the largest value. Thread-safe; the table is built once, on first use.
double inverse_document_frequency(std::string_view term);

} // namespace hive::inference::internal
