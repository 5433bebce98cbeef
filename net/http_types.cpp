// Helpers of the plain HTTP request/response structs.
#include "net/http_types.hpp"

namespace hive::net {

const std::string* http_request::query_param(std::string_view name) const noexcept {
  for (const auto& [key, value] : query)
    if (key == name)
      return &value;
  return nullptr;
}

} // namespace hive::net
