// Identifiers for agents and tasks: UUIDv7 strings, unique across nodes and sortable by creation.
#pragma once

#include <string>
#include <string_view>

#include "runtime/model.hpp"

namespace hive::runtime {

/// A new UUIDv7 (RFC 9562) in lower-case text form. Thread-safe. Ids made by one process are
/// strictly increasing, so they double as a paging cursor.
std::string new_id();

/// Same, with an explicit time (tests).
std::string new_id(timestamp_ms at);

/// True if `text` has the form of an id made by new_id (36 characters, hex and dashes).
bool looks_like_id(std::string_view text) noexcept;

} // namespace hive::runtime
