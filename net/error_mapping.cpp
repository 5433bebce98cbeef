// Error code -> HTTP status table and error body encoding.
#include "net/error_mapping.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hive::net {

unsigned http_status(errc code) noexcept {
  switch (code) {
    case errc::bad_request: return 400;
    case errc::malformed_json: return 400;
    case errc::payload_too_large: return 413;
    case errc::unsupported_media_type: return 415;
    case errc::not_found: return 404;
    case errc::method_not_allowed: return 405;
    case errc::illegal_state: return 409;
    case errc::invalid_field: return 422;
    case errc::unknown_task_type: return 422;
    case errc::queue_full: return 503;
    case errc::store_unavailable: return 503;
    case errc::capacity_exceeded: return 409;
    case errc::too_many_connections: return 503;
    case errc::request_timeout: return 408;
    case errc::shutting_down: return 503;
    case errc::internal: return 500;
  }
  return 500;
}

http_response error_response(const error& err, std::string_view request_id) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto code = to_string(err.code);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(err.message.c_str(), static_cast<rapidjson::SizeType>(err.message.size()));
  w.Key("field");
  w.String(err.field.c_str(), static_cast<rapidjson::SizeType>(err.field.size()));
  w.Key("request_id");
  w.String(request_id.data(), static_cast<rapidjson::SizeType>(request_id.size()));
  w.EndObject();
  w.EndObject();
  http_response res;
  res.status = http_status(err.code);
  res.body.assign(buf.GetString(), buf.GetSize());
  if (res.status == 503)
    res.headers.emplace_back("Retry-After", "1");
  return res;
}

} // namespace hive::net
