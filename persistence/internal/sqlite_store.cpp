// The SQLite store: opening the file, the read connection pool, one transaction per batch.
#include "persistence/internal/sqlite_store.hpp"

#include <filesystem>
#include <system_error>

#include "persistence/internal/sqlite_rows.hpp"

namespace hive::persistence::internal {
namespace {

constexpr int writer_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
constexpr int reader_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

// A WAL that one huge batch grew is cut back to 64 MiB when it is next reset. The writer's page
// cache size comes from the caller (negative cache_size = KiB).
constexpr const char* writer_pragmas =
  "PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864;";

result<unit_t> create_parent_directory(const std::string& path) {
  auto parent = std::filesystem::path{path}.parent_path();
  if (parent.empty())
    return unit;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec)
    return make_error(errc::store_unavailable, "cannot create directory '" + parent.string()
                                                 + "' for the SQLite database '" + path
                                                 + "': " + ec.message());
  return unit;
}

result<unit_t> enable_wal(sqlite_connection& conn, const std::string& path) {
  auto stmt = conn.prepare("PRAGMA journal_mode = WAL");
  if (!stmt)
    return std::move(stmt).err();
  statement_scope scope{*stmt};
  if (sqlite3_step(*stmt) != SQLITE_ROW)
    return conn.failure("cannot switch '" + path + "' to WAL mode");
  // Some file systems cannot hold a WAL; readers would then block the writer and vice versa.
  if (column_text(*stmt, 0) != "wal")
    return make_error(errc::store_unavailable,
                      "SQLite database '" + path + "' cannot use WAL mode on this file system");
  return unit;
}

// Writes `items` with the multi-row statement `chunk` (`chunk_rows` rows per step) and the
// rest with the one-row statement `single`. `bind(stmt, row, item)` binds one row and returns
// SQLite's code; `describe(first, last)` names the items of a failed statement.
template <class T, class Bind, class Describe>
result<unit_t> write_rows(sqlite_connection& conn, sqlite3_stmt* chunk, size_t chunk_rows,
                          sqlite3_stmt* single, const std::vector<T>& items, Bind bind,
                          Describe describe) {
  size_t i = 0;
  while (i < items.size()) {
    auto* stmt = items.size() - i >= chunk_rows ? chunk : single;
    size_t rows = stmt == chunk ? chunk_rows : 1;
    statement_scope scope{stmt};
    int rc = SQLITE_OK;
    for (size_t row = 0; row < rows && rc == SQLITE_OK; ++row)
      rc = bind(stmt, row, items[i + row]);
    if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
      return conn.failure(describe(items[i], items[i + rows - 1]));
    i += rows;
  }
  return unit;
}

} // namespace

// -- open and close -------------------------------------------------------------------------

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path,
                                                         bool full_sync,
                                                         size_t cache_kib) {
  if (auto ok = create_parent_directory(path); !ok)
    return std::move(ok).err();
  auto conn = sqlite_connection::open(path, writer_flags, sqlite_busy_timeout_ms);
  if (!conn)
    return std::move(conn).err();
  auto& writer = **conn;
  if (auto ok = enable_wal(writer, path); !ok)
    return std::move(ok).err();
  if (auto ok = writer.exec(full_sync ? "PRAGMA synchronous = FULL"
                                      : "PRAGMA synchronous = NORMAL");
      !ok)
    return std::move(ok).err();
  auto cache = "PRAGMA cache_size = -" + std::to_string(cache_kib) + ";";
  if (auto ok = writer.exec(cache.c_str()); !ok)
    return std::move(ok).err();
  if (auto ok = writer.exec(writer_pragmas); !ok)
    return std::move(ok).err();
  if (auto ok = migrate(writer, sqlite_migrations()); !ok) {
    auto err = std::move(ok).err();
    err.message = "SQLite database '" + path + "': " + err.message;
    return err;
  }
  write_statements stmts;
  for (auto [slot, sql] :
       {std::pair{&stmts.quick_upsert_task_chunk,
                  quick_upsert_tasks_sql(sqlite_task_rows_per_statement)},
        std::pair{&stmts.quick_upsert_task, quick_upsert_tasks_sql(1)},
        std::pair{&stmts.upsert_task_chunk, upsert_tasks_sql(sqlite_task_rows_per_statement)},
        std::pair{&stmts.upsert_task, upsert_tasks_sql(1)},
        std::pair{&stmts.insert_event_chunk, insert_events_sql(sqlite_event_rows_per_statement)},
        std::pair{&stmts.insert_event, insert_events_sql(1)},
        std::pair{&stmts.upsert_agent, upsert_agent_sql},
        std::pair{&stmts.delete_agent, delete_agent_sql}}) {
    auto stmt = writer.prepare(sql);
    if (!stmt)
      return std::move(stmt).err();
    *slot = *stmt;
  }
  auto checkpointer = wal_checkpointer::start(path, writer);
  if (!checkpointer)
    return std::move(checkpointer).err();
  return std::unique_ptr<sqlite_store>{
    new sqlite_store(path, std::move(*conn), stmts, std::move(*checkpointer))};
}

sqlite_store::sqlite_store(std::string path, std::unique_ptr<sqlite_connection> writer,
                           write_statements statements,
                           std::unique_ptr<wal_checkpointer> checkpointer)
  : path_(std::move(path)),
    writer_(std::move(writer)),
    write_(statements),
    json_(2 * sqlite_task_rows_per_statement),
    checkpointer_(std::move(checkpointer)) {
}

sqlite_store::~sqlite_store() {
  // The writer last: the last connection to close checkpoints the WAL and removes it.
  idle_readers_.clear();
  checkpointer_.reset();
  writer_.reset();
}

result<std::vector<applied_migration>> sqlite_store::applied_migrations() {
  auto conn = acquire_reader();
  if (!conn)
    return std::move(conn).err();
  return internal::applied_migrations(**conn);
}

// -- read connections -----------------------------------------------------------------------

void sqlite_store::reader_return::operator()(sqlite_connection* conn) const {
  owner->release_reader(conn);
}

result<sqlite_store::reader> sqlite_store::acquire_reader() {
  {
    std::lock_guard<std::mutex> guard{readers_mtx_};
    if (!idle_readers_.empty()) {
      auto* conn = idle_readers_.back().release();
      idle_readers_.pop_back();
      return reader{conn, reader_return{this}};
    }
  }
  // Opening happens outside the lock; the pool grows to the number of concurrent readers.
  auto conn = sqlite_connection::open(path_, reader_flags, sqlite_busy_timeout_ms);
  if (!conn)
    return std::move(conn).err();
  if (auto ok = (*conn)->exec("PRAGMA query_only = 1"); !ok)
    return std::move(ok).err();
  return reader{conn->release(), reader_return{this}};
}

void sqlite_store::release_reader(sqlite_connection* conn) {
  std::unique_ptr<sqlite_connection> owned{conn};
  std::lock_guard<std::mutex> guard{readers_mtx_};
  if (idle_readers_.size() < sqlite_max_idle_readers)
    idle_readers_.push_back(std::move(owned));
}

// -- writes ---------------------------------------------------------------------------------

result<unit_t> sqlite_store::apply(const write_batch& batch) {
  if (batch.empty())
    return unit;
  std::lock_guard<std::mutex> guard{writer_mtx_};
  auto& conn = *writer_;
  if (auto ok = conn.exec("BEGIN IMMEDIATE"); !ok)
    return ok;
  auto ok = write_all(batch);
  if (ok)
    ok = conn.exec("COMMIT");
  if (!ok) {
    // SQLite ends the transaction by itself after some errors (disk full, I/O).
    if (sqlite3_get_autocommit(conn.handle()) == 0)
      conn.exec("ROLLBACK");
    return ok;
  }
  return unit;
}

result<unit_t> sqlite_store::write_all(const write_batch& batch) {
  if (auto ok = upsert_tasks(batch.tasks); !ok)
    return ok;
  if (auto ok = insert_events(batch.events); !ok)
    return ok;
  for (const auto& agent : batch.agents)
    if (auto ok = upsert_agent(agent); !ok)
      return ok;
  for (const auto& id : batch.deleted_agents)
    if (auto ok = delete_agent(id); !ok)
      return ok;
  return unit;
}

result<unit_t> sqlite_store::upsert_tasks(const std::vector<task_record>& tasks) {
  size_t i = 0;
  while (i < tasks.size()) {
    bool chunk = tasks.size() - i >= sqlite_task_rows_per_statement;
    auto ok = chunk ? upsert_task_rows(&tasks[i], sqlite_task_rows_per_statement,
                                       write_.quick_upsert_task_chunk, write_.upsert_task_chunk)
                    : upsert_task_rows(&tasks[i], 1, write_.quick_upsert_task,
                                       write_.upsert_task);
    if (!ok)
      return ok;
    i += chunk ? sqlite_task_rows_per_statement : 1;
  }
  return unit;
}

// The quick statement handles the usual case. When it left a row alone (its type or key
// changed) or hit a key clash (perhaps one a left-alone row would have freed), the full
// statement runs the same rows again: replaying them in order gives the end state of
// upserting them one by one, and the quick run's partial changes were undone or are redone.
result<unit_t> sqlite_store::upsert_task_rows(const task_record* first, size_t rows,
                                              sqlite3_stmt* quick, sqlite3_stmt* full) {
  auto* db = writer_->handle();
  int rc = step_task_rows(quick, first, rows);
  if (rc == SQLITE_DONE && static_cast<size_t>(sqlite3_changes64(db)) == rows)
    return unit;
  if (rc == SQLITE_DONE || (rc & 0xff) == SQLITE_CONSTRAINT)
    rc = step_task_rows(full, first, rows);
  if (rc == SQLITE_DONE)
    return unit;
  const auto& last = first[rows - 1];
  return writer_->failure(rows == 1 ? "cannot store task '" + first->id + "'"
                                    : "cannot store one of the tasks '" + first->id + "' to '"
                                        + last.id + "'");
}

int sqlite_store::step_task_rows(sqlite3_stmt* stmt, const task_record* first, size_t rows) {
  int rc = SQLITE_OK;
  for (size_t r = 0; r < rows && rc == SQLITE_OK; ++r)
    rc = bind_task(stmt, static_cast<int>(r) * task_params + 1, first[r], json_[2 * r],
                   json_[2 * r + 1]);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(stmt);
  // Resetting keeps the error code and message on the connection for failure().
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc;
}

result<unit_t> sqlite_store::insert_events(const std::vector<task_event>& events) {
  auto bind = [](sqlite3_stmt* stmt, size_t row, const task_event& event) {
    return bind_event(stmt, static_cast<int>(row) * event_params + 1, event);
  };
  auto describe = [](const task_event& first, const task_event& last) {
    return "cannot store the events of tasks '" + first.task_id + "' to '" + last.task_id + "'";
  };
  return write_rows(*writer_, write_.insert_event_chunk, sqlite_event_rows_per_statement,
                    write_.insert_event, events, bind, describe);
}

result<unit_t> sqlite_store::upsert_agent(const agent_record& agent) {
  auto* stmt = write_.upsert_agent;
  statement_scope scope{stmt};
  if (bind_agent(stmt, agent, json_.front()) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
    return writer_->failure("cannot store agent '" + agent.id + "'");
  return unit;
}

result<unit_t> sqlite_store::delete_agent(const std::string& id) {
  auto* stmt = write_.delete_agent;
  statement_scope scope{stmt};
  if (binder{stmt}.text(1, id).rc() != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
    return writer_->failure("cannot delete agent '" + id + "'");
  return unit;
}

// -- objects: one statement each on the writer connection (autocommit) ----------------------

result<unit_t> sqlite_store::put_object(const stored_object& object) {
  std::lock_guard<std::mutex> guard{writer_mtx_};
  auto stmt = writer_->prepare("INSERT INTO objects (kind, name, body, meta, updated_at)"
                               " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kind, name) DO UPDATE"
                               " SET body = excluded.body, meta = excluded.meta,"
                               " updated_at = excluded.updated_at");
  if (!stmt)
    return std::move(stmt).err();
  statement_scope scope{*stmt};
  binder b{*stmt};
  b.text(1, object.kind).text(2, object.name).text(3, object.body).text(4, object.meta);
  b.integer(5, object.updated_at);
  if (b.rc() != SQLITE_OK || sqlite3_step(*stmt) != SQLITE_DONE)
    return writer_->failure("cannot store " + object.kind + " '" + object.name + "'");
  return unit;
}

result<bool> sqlite_store::delete_object(std::string_view kind, std::string_view name) {
  std::lock_guard<std::mutex> guard{writer_mtx_};
  auto stmt = writer_->prepare("DELETE FROM objects WHERE kind = ?1 AND name = ?2");
  if (!stmt)
    return std::move(stmt).err();
  statement_scope scope{*stmt};
  if (binder{*stmt}.text(1, kind).text(2, name).rc() != SQLITE_OK
      || sqlite3_step(*stmt) != SQLITE_DONE)
    return writer_->failure("cannot delete " + std::string{kind} + " '" + std::string{name}
                            + "'");
  return sqlite3_changes64(writer_->handle()) > 0;
}

} // namespace hive::persistence::internal
