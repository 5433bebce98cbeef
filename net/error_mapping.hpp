// The one table from error codes to HTTP statuses, and the JSON error body.
#pragma once

#include <string>
#include <string_view>

#include "net/http_types.hpp"
#include "runtime/error.hpp"

namespace hive::net {

/// HTTP status for an error code (400, 404, 409, 422, 503, ...).
unsigned http_status(errc code) noexcept;

/// `{"error":{"code","message","field","request_id"}}` with the mapped status; 503s carry
/// Retry-After.
http_response error_response(const error& err, std::string_view request_id);

} // namespace hive::net
