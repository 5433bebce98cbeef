// One SQLite connection with a cache of prepared statements, and helpers to bind and read them.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/error.hpp"

namespace hive::persistence::internal {

/// Resets a cached statement when the scope ends, so that no read snapshot stays open and the
/// statement is ready for its next use. Does not own the statement.
class statement_scope {
public:
  explicit statement_scope(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
  ~statement_scope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  statement_scope(const statement_scope&) = delete;
  statement_scope& operator=(const statement_scope&) = delete;

  sqlite3_stmt* get() const noexcept { return stmt_; }

private:
  sqlite3_stmt* stmt_;
};

/// Binds parameters one after another and remembers the first failure.
class binder {
public:
  explicit binder(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}

  /// Binds without copying: `value` must outlive the next sqlite3_step.
  binder& text(int index, std::string_view value) noexcept;
  /// Binds NULL for an empty string.
  binder& text_or_null(int index, std::string_view value) noexcept;
  binder& integer(int index, int64_t value) noexcept;
  binder& real(int index, double value) noexcept;

  int rc() const noexcept { return rc_; }

private:
  void check(int rc) noexcept {
    if (rc_ == SQLITE_OK)
      rc_ = rc;
  }

  sqlite3_stmt* stmt_;
  int rc_ = SQLITE_OK;
};

/// Column `col` of the current row as a string; NULL reads as empty.
std::string column_text(sqlite3_stmt* stmt, int col);

/// An open database handle. Not thread-safe: one thread uses it at a time.
class sqlite_connection {
public:
  /// Opens `path` with SQLITE_OPEN_* `flags` and sets the busy timeout. Errors carry the path
  /// and SQLite's message, with code store_unavailable.
  static result<std::unique_ptr<sqlite_connection>> open(const std::string& path, int flags,
                                                         int busy_timeout_ms);

  ~sqlite_connection();
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;

  /// Runs one or more statements that return no rows.
  result<unit_t> exec(const char* sql);

  /// The prepared statement for `sql`, compiled on first use and kept until the connection
  /// closes. The caller resets it after use (see statement_scope).
  result<sqlite3_stmt*> prepare(const std::string& sql);

  /// A store_unavailable error: "`what`: SQLite's latest message".
  error failure(std::string_view what) const;

  sqlite3* handle() const noexcept { return db_; }

private:
  explicit sqlite_connection(sqlite3* db) noexcept : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

} // namespace hive::persistence::internal
