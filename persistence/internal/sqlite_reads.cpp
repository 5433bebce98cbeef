// The read queries of the SQLite store, each on a pooled read connection.
#include <limits>

#include "persistence/internal/sqlite_rows.hpp"
#include "persistence/internal/sqlite_store.hpp"

namespace hive::persistence::internal {
namespace {

// Runs a prepared statement to completion, passing each row to `on_row`, which returns
// result<unit_t>. Resets the statement whatever happens.
template <class OnRow>
result<unit_t> for_each_row(sqlite_connection& conn, sqlite3_stmt* stmt, OnRow&& on_row) {
  statement_scope scope{stmt};
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    if (auto ok = on_row(stmt); !ok)
      return ok;
  if (rc != SQLITE_DONE)
    return conn.failure("SQLite read failed");
  return unit;
}

// Collects the rows decoded by `read` (returning result<Row>) into a vector.
template <class Row, class Read>
result<std::vector<Row>> collect(sqlite_connection& conn, sqlite3_stmt* stmt, Read read) {
  std::vector<Row> rows;
  auto ok = for_each_row(conn, stmt, [&](sqlite3_stmt* s) -> result<unit_t> {
    auto row = read(s);
    if (!row)
      return std::move(row).err();
    rows.push_back(std::move(*row));
    return unit;
  });
  if (!ok)
    return std::move(ok).err();
  return rows;
}

result<std::optional<task_record>> first_task(sqlite_connection& conn, sqlite3_stmt* stmt) {
  auto rows = collect<task_record>(conn, stmt, read_task);
  if (!rows)
    return std::move(rows).err();
  if (rows->empty())
    return std::optional<task_record>{};
  return std::optional<task_record>{std::move(rows->front())};
}

} // namespace

// -- reads ----------------------------------------------------------------------------------

result<std::optional<task_record>> sqlite_store::find_task(std::string_view id) {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT " + task_columns + " FROM tasks WHERE id = ?1");
  if (!stmt)
    return std::move(stmt).err();
  binder{*stmt}.text(1, id);
  return first_task(**conn, *stmt);
}

result<std::optional<task_record>> sqlite_store::find_task_by_key(std::string_view key) {
  if (key.empty())
    return std::optional<task_record>{};
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT " + task_columns
                               + " FROM tasks WHERE idempotency_key = ?1");
  if (!stmt)
    return std::move(stmt).err();
  binder{*stmt}.text(1, key);
  return first_task(**conn, *stmt);
}

result<std::vector<task_record>> sqlite_store::list_tasks(const task_filter& filter) {
  // Numbered parameters keep each value at a fixed index whichever filters are present; the
  // few distinct texts this builds are each prepared once per connection.
  std::string sql = "SELECT " + task_columns + " FROM tasks WHERE id > ?1";
  if (filter.status)
    sql += " AND status = ?2";
  if (filter.type)
    sql += " AND type = ?3";
  if (filter.agent_id)
    sql += " AND agent_id = ?4";
  if (filter.capability)
    sql += " AND EXISTS (SELECT 1 FROM json_each(tasks.required_capabilities) AS req"
           " WHERE json_extract(req.value, '$.name') = ?5)";
  sql += " ORDER BY id LIMIT ?6";
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare(sql);
  if (!stmt)
    return std::move(stmt).err();
  constexpr auto max_limit = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  binder b{*stmt};
  b.text(1, filter.after_id);
  if (filter.status)
    b.text(2, to_string(*filter.status));
  if (filter.type)
    b.text(3, *filter.type);
  if (filter.agent_id)
    b.text(4, *filter.agent_id);
  if (filter.capability)
    b.text(5, *filter.capability);
  b.integer(6, static_cast<int64_t>(std::min(filter.limit, max_limit)));
  if (b.rc() != SQLITE_OK) {
    statement_scope scope{*stmt};
    return (*conn)->failure("cannot bind the task filter");
  }
  return collect<task_record>(**conn, *stmt, read_task);
}

result<std::vector<task_event>> sqlite_store::task_events(std::string_view task_id) {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT " + event_columns
                               + " FROM task_events WHERE task_id = ?1 ORDER BY seq");
  if (!stmt)
    return std::move(stmt).err();
  binder{*stmt}.text(1, task_id);
  return collect<task_event>(**conn, *stmt, read_event);
}

result<std::vector<task_record>> sqlite_store::unfinished_tasks() {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT " + task_columns
                               + " FROM tasks WHERE status IN ('pending', 'queued', 'running')"
                                 " ORDER BY id");
  if (!stmt)
    return std::move(stmt).err();
  return collect<task_record>(**conn, *stmt, read_task);
}

result<std::vector<std::pair<std::string, std::string>>> sqlite_store::idempotency_keys() {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT id, idempotency_key FROM tasks"
                               " WHERE idempotency_key IS NOT NULL ORDER BY id");
  if (!stmt)
    return std::move(stmt).err();
  using key_row = std::pair<std::string, std::string>;
  return collect<key_row>(**conn, *stmt, [](sqlite3_stmt* s) -> result<key_row> {
    return key_row{column_text(s, 0), column_text(s, 1)};
  });
}

result<task_counts> sqlite_store::count_tasks() {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT status, count(*) FROM tasks GROUP BY status");
  if (!stmt)
    return std::move(stmt).err();
  task_counts counts{};
  auto ok = for_each_row(**conn, *stmt, [&](sqlite3_stmt* s) -> result<unit_t> {
    task_status status;
    auto name = column_text(s, 0);
    if (!from_string(name, status))
      return make_error(errc::internal, "tasks has an unknown status '" + name + "'");
    counts[static_cast<size_t>(status)] = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
    return unit;
  });
  if (!ok)
    return std::move(ok).err();
  return counts;
}

result<std::vector<agent_record>> sqlite_store::load_agents() {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare("SELECT " + agent_columns + " FROM agents ORDER BY id");
  if (!stmt)
    return std::move(stmt).err();
  return collect<agent_record>(**conn, *stmt, read_agent);
}

result<unit_t> sqlite_store::ping() {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  // Reads the file, unlike SELECT 1, so a vanished or unreadable database shows.
  auto stmt = (*conn)->prepare("SELECT count(*) FROM schema_migrations");
  if (!stmt)
    return std::move(stmt).err();
  return for_each_row(**conn, *stmt, [](sqlite3_stmt*) -> result<unit_t> { return unit; });
}

result<std::optional<stored_object>> sqlite_store::find_object(std::string_view kind,
                                                               std::string_view name) {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare(
    "SELECT kind, name, body, meta, updated_at FROM objects WHERE kind = ?1 AND name = ?2");
  if (!stmt)
    return std::move(stmt).err();
  binder{*stmt}.text(1, kind).text(2, name);
  auto rows = collect<stored_object>(**conn, *stmt, [](sqlite3_stmt* s) -> result<stored_object> {
    return stored_object{column_text(s, 0), column_text(s, 1), column_text(s, 2),
                         column_text(s, 3), sqlite3_column_int64(s, 4)};
  });
  if (!rows)
    return std::move(rows).err();
  if (rows->empty())
    return std::optional<stored_object>{};
  return std::optional<stored_object>{std::move(rows->front())};
}

result<std::vector<stored_object>> sqlite_store::list_objects(std::string_view kind) {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  auto stmt = (*conn)->prepare(
    "SELECT kind, name, meta, updated_at FROM objects WHERE kind = ?1 ORDER BY name");
  if (!stmt)
    return std::move(stmt).err();
  binder{*stmt}.text(1, kind);
  return collect<stored_object>(**conn, *stmt, [](sqlite3_stmt* s) -> result<stored_object> {
    return stored_object{column_text(s, 0), column_text(s, 1), {}, column_text(s, 2),
                         sqlite3_column_int64(s, 3)};
  });
}

} // namespace hive::persistence::internal
