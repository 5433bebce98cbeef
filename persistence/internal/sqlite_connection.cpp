// SQLite handle, statement cache and binding helpers used by the SQLite store.
#include "persistence/internal/sqlite_connection.hpp"

namespace hive::persistence::internal {

binder& binder::text(int index, std::string_view value) noexcept {
  // A non-null pointer even for "" so that an empty string is stored as '' and not as NULL.
  check(sqlite3_bind_text(stmt_, index, value.empty() ? "" : value.data(),
                          static_cast<int>(value.size()), SQLITE_STATIC));
  return *this;
}

binder& binder::text_or_null(int index, std::string_view value) noexcept {
  if (value.empty())
    check(sqlite3_bind_null(stmt_, index));
  else
    text(index, value);
  return *this;
}

binder& binder::integer(int index, int64_t value) noexcept {
  check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

binder& binder::real(int index, double value) noexcept {
  check(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

std::string column_text(sqlite3_stmt* stmt, int col) {
  const auto* text = sqlite3_column_text(stmt, col);
  if (text == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
}

result<std::unique_ptr<sqlite_connection>> sqlite_connection::open(const std::string& path,
                                                                   int flags,
                                                                   int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open SQLite database '" + path + "': ";
    msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(errc::store_unavailable, std::move(msg));
  }
  std::unique_ptr<sqlite_connection> conn{new sqlite_connection(db)};
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  return conn;
}

sqlite_connection::~sqlite_connection() {
  for (auto& [sql, stmt] : statements_)
    sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

result<unit_t> sqlite_connection::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg != nullptr ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return make_error(errc::store_unavailable, "SQLite: " + text);
  }
  return unit;
}

result<sqlite3_stmt*> sqlite_connection::prepare(const std::string& sql) {
  if (auto i = statements_.find(sql); i != statements_.end())
    return i->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt, nullptr)
      != SQLITE_OK)
    return failure("cannot prepare statement");
  statements_.emplace(sql, stmt);
  return stmt;
}

error sqlite_connection::failure(std::string_view what) const {
  std::string msg{what};
  msg += ": ";
  msg += sqlite3_errmsg(db_);
  return make_error(errc::store_unavailable, std::move(msg));
}

} // namespace hive::persistence::internal
