// Names of the error codes, as they appear in API error bodies.
#include "runtime/error.hpp"

namespace hive {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::bad_request: return "bad_request";
    case errc::malformed_json: return "malformed_json";
    case errc::payload_too_large: return "payload_too_large";
    case errc::unsupported_media_type: return "unsupported_media_type";
    case errc::not_found: return "not_found";
    case errc::method_not_allowed: return "method_not_allowed";
    case errc::illegal_state: return "illegal_state";
    case errc::invalid_field: return "invalid_field";
    case errc::unknown_task_type: return "unknown_task_type";
    case errc::queue_full: return "queue_full";
    case errc::store_unavailable: return "store_unavailable";
    case errc::capacity_exceeded: return "capacity_exceeded";
    case errc::too_many_connections: return "too_many_connections";
    case errc::request_timeout: return "request_timeout";
    case errc::shutting_down: return "shutting_down";
    case errc::internal: return "internal";
  }
  return "internal";
}

} // namespace hive
