// The numbered schema migrations of the SQLite store and the code that applies them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "persistence/internal/sqlite_connection.hpp"
#include "runtime/model.hpp"

namespace hive::persistence::internal {

/// One schema step. Versions start at 1 and increase by one; a released step never changes.
struct migration {
  int version;
  std::string_view sql;
};

/// A row of schema_migrations.
struct applied_migration {
  int version = 0;
  timestamp_ms applied_at = 0;
};

/// Every migration of the SQLite schema, in order.
const std::vector<migration>& sqlite_migrations();

/// Creates schema_migrations if needed and applies each migration newer than the recorded
/// version, each in its own transaction together with its schema_migrations row. Fails with
/// store_unavailable when a step fails (that step leaves nothing behind) or when the file was
/// written by a newer schema than `steps` knows.
result<unit_t> migrate(sqlite_connection& conn, const std::vector<migration>& steps);

/// The rows of schema_migrations, by version.
result<std::vector<applied_migration>> applied_migrations(sqlite_connection& conn);

} // namespace hive::persistence::internal
