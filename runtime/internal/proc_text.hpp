// Reading the small text files of /proc and /sys (metrics.cpp, resources.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hive::runtime::internal {

/// The whole file; nullopt when it cannot be read.
std::optional<std::string> read_text_file(const char* path);

/// A decimal number, surrounding blanks and newlines ignored; nullopt for anything else.
std::optional<double> parse_number(std::string_view text);

} // namespace hive::runtime::internal
