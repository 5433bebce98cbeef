// The built-in English stop-word list: function words that never count as keywords.
#pragma once

#include <string_view>

namespace hive::inference::internal {

/// True if `word` (normalised, as from the tokenizer) is an English stop word. Thread-safe.
bool is_stop_word(std::string_view word);

} // namespace hive::inference::internal
