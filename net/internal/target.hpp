// Splits a request target into a percent-decoded path and decoded query parameters.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hive::net::internal {

/// Decodes %XX escapes; with `plus_is_space` also '+' as ' ' (query strings). A '%' that is not
/// followed by two hex digits is kept as it is: lenient, like most servers.
std::string percent_decode(std::string_view text, bool plus_is_space);

/// Fills `path` (decoded, without the query) and `query` (decoded key/value pairs in order; a key
/// without '=' gets an empty value; empty pieces such as "a=1&&b=2" are skipped) from `target`.
void split_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query);

} // namespace hive::net::internal
