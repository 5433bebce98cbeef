// Plain HTTP request/response structs: what handlers see instead of Beast types.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hive::net {

struct http_request {
  std::string method; ///< "GET", "POST", ...
  std::string target; ///< path and query, as sent
  std::string path;   ///< target without the query, percent-decoded
  std::vector<std::pair<std::string, std::string>> query; ///< decoded query parameters
  std::string content_type; ///< the Content-Type header, as sent
  std::string idempotency_key; ///< the Idempotency-Key header
  std::string request_id; ///< X-Request-Id if sent, else one made by the server
  std::string body;

  /// First value of a query parameter, or nullptr.
  const std::string* query_param(std::string_view name) const noexcept;
};

struct http_response {
  unsigned status = 200;
  std::string body; ///< JSON unless content_type says otherwise
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers; ///< extra headers
};

/// Called once per response. Thread-safe: may be called from any thread (an actor's), the
/// server posts the write to the connection's strand.
using responder = std::function<void(http_response)>;

/// The application's entry point for one request. Runs on an I/O thread: must not block.
using http_handler = std::function<void(http_request&&, responder)>;

} // namespace hive::net
