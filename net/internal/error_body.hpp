// The JSON error body the server writes itself (408, 413, 400, 503, 500).
#pragma once

#include <string>
#include <string_view>

namespace hive::net::internal {

/// `{"error":{"code":...,"message":...,"field":...}}` with the strings JSON-escaped.
std::string error_body(std::string_view code, std::string_view message,
                       std::string_view field = {});

} // namespace hive::net::internal
