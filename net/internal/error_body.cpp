// Builds the JSON error bodies of responses the server answers without the handler.
#include "net/internal/error_body.hpp"

namespace hive::net::internal {

namespace {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(hex[(c >> 4) & 0xf]);
          out.push_back(hex[c & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

} // namespace

std::string error_body(std::string_view code, std::string_view message, std::string_view field) {
  std::string out;
  out.reserve(48 + code.size() + message.size() + field.size());
  out += R"({"error":{"code":)";
  append_json_string(out, code);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += R"(,"field":)";
  append_json_string(out, field);
  out += "}}";
  return out;
}

} // namespace hive::net::internal
