// Error values shared by every module: a stable code, a message and the offending field.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hive {

/// Stable error codes. Their names (see to_string) are part of the HTTP API.
enum class errc : unsigned char {
  bad_request,            ///< not a valid HTTP request
  malformed_json,         ///< body is not valid JSON
  payload_too_large,      ///< body over the configured limit
  unsupported_media_type, ///< body is not application/json
  not_found,              ///< unknown id or route
  method_not_allowed,     ///< route exists, method does not
  illegal_state,          ///< state change not allowed from the current state
  invalid_field,          ///< a field has a bad value
  unknown_task_type,      ///< no executor with that name
  queue_full,             ///< admission refused: the queue is at its bound
  store_unavailable,      ///< the store cannot commit or read right now
  capacity_exceeded,      ///< a configured limit of registered things (agents) is reached
  too_many_connections,   ///< the server holds its maximum of open connections
  request_timeout,        ///< the request took longer than allowed
  shutting_down,          ///< the server is stopping
  internal,               ///< a bug: an invariant did not hold
};

std::string_view to_string(errc code) noexcept;

/// An error as a value: what went wrong, in words, and which input field caused it.
struct error {
  errc code = errc::internal;
  std::string message;
  std::string field;
};

inline error make_error(errc code, std::string message, std::string field = {}) {
  return error{code, std::move(message), std::move(field)};
}

/// Either a value or an error (the core's answer to exceptions).
template <class T>
class result {
public:
  result(T value) : data_(std::move(value)) {}
  result(error err) : data_(std::move(err)) {}

  bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(data_); }
  const T& value() const& { assert(ok()); return std::get<0>(data_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error& err() const& { assert(!ok()); return std::get<1>(data_); }
  error&& err() && { assert(!ok()); return std::get<1>(std::move(data_)); }

private:
  std::variant<T, error> data_;
};

/// Success without a value.
struct unit_t {};
inline constexpr unit_t unit{};

} // namespace hive
