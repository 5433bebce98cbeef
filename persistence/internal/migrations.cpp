// Schema of the SQLite store, as numbered steps applied in order at open.
#include "persistence/internal/migrations.hpp"

#include "runtime/clock.hpp"

#include <chrono>
#include <string>

namespace hive::persistence::internal {
namespace {

// Version 1: agents, tasks, the event log and the indexes behind the list filters. Every
// filter index ends with id so that "filter AND id > cursor ORDER BY id" is one range scan.
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE agents (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  type            TEXT NOT NULL,
  capabilities    TEXT NOT NULL,
  max_concurrency INTEGER NOT NULL,
  state           TEXT NOT NULL,
  tasks_completed INTEGER NOT NULL,
  tasks_failed    INTEGER NOT NULL,
  mean_latency_ms REAL NOT NULL,
  metadata        TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE tasks (
  id                    TEXT PRIMARY KEY,
  type                  TEXT NOT NULL,
  description           TEXT NOT NULL,
  payload               TEXT NOT NULL,
  priority              INTEGER NOT NULL,
  required_capabilities TEXT NOT NULL,
  depends_on            TEXT NOT NULL,
  timeout_ms            INTEGER NOT NULL,
  max_retries           INTEGER NOT NULL,
  idempotency_key       TEXT,
  status                TEXT NOT NULL,
  attempts              INTEGER NOT NULL,
  agent_id              TEXT NOT NULL,
  result                TEXT NOT NULL,
  error                 TEXT NOT NULL,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  started_at            INTEGER NOT NULL,
  finished_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX tasks_by_idempotency_key ON tasks (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_by_status ON tasks (status, id);
CREATE INDEX tasks_by_type ON tasks (type, id);
CREATE INDEX tasks_by_agent ON tasks (agent_id, id);

CREATE TABLE task_events (
  seq      INTEGER PRIMARY KEY,
  task_id  TEXT NOT NULL,
  status   TEXT NOT NULL,
  at       INTEGER NOT NULL,
  attempt  INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  detail   TEXT NOT NULL
);
CREATE INDEX task_events_by_task ON task_events (task_id, seq);
)sql";

// Version 2: named documents (trained networks, datasets, the routing experience).
constexpr std::string_view schema_v2 = R"sql(
CREATE TABLE objects (
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  body       TEXT NOT NULL,
  meta       TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
);
)sql";

result<int> current_version(sqlite_connection& conn) {
  auto stmt = conn.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!stmt)
    return std::move(stmt).err();
  statement_scope scope{*stmt};
  if (sqlite3_step(*stmt) != SQLITE_ROW)
    return conn.failure("cannot read the schema version");
  return sqlite3_column_int(*stmt, 0);
}

// Reads the version inside the step's transaction, so that two processes opening the same
// file at once do not both apply it.
result<unit_t> apply_step(sqlite_connection& conn, const migration& step) {
  if (auto ok = conn.exec("BEGIN IMMEDIATE"); !ok)
    return ok;
  auto fail = [&](error err) -> result<unit_t> {
    conn.exec("ROLLBACK");
    err.message = "migration " + std::to_string(step.version) + " failed: " + err.message;
    return err;
  };
  auto version = current_version(conn);
  if (!version)
    return fail(std::move(version).err());
  if (*version >= step.version) {
    conn.exec("ROLLBACK");
    return unit;
  }
  if (auto ok = conn.exec(std::string{step.sql}.c_str()); !ok)
    return fail(std::move(ok).err());
  auto stmt = conn.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
  if (!stmt)
    return fail(std::move(stmt).err());
  {
    statement_scope scope{*stmt};
    binder{*stmt}.integer(1, step.version).integer(2, runtime::system_clock::instance().now());
    if (sqlite3_step(*stmt) != SQLITE_DONE)
      return fail(conn.failure("cannot record the migration"));
  }
  if (auto ok = conn.exec("COMMIT"); !ok)
    return fail(std::move(ok).err());
  return unit;
}

} // namespace

const std::vector<migration>& sqlite_migrations() {
  static const std::vector<migration> steps{
    {1, schema_v1},
    {2, schema_v2},
  };
  return steps;
}

result<unit_t> migrate(sqlite_connection& conn, const std::vector<migration>& steps) {
  if (auto ok = conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY,"
                          " applied_at INTEGER NOT NULL)");
      !ok)
    return ok;
  auto version = current_version(conn);
  if (!version)
    return std::move(version).err();
  int known = steps.empty() ? 0 : steps.back().version;
  if (*version > known)
    return make_error(errc::store_unavailable,
                      "the database has schema version " + std::to_string(*version)
                        + " but this build knows only up to " + std::to_string(known));
  for (const auto& step : steps) {
    if (step.version <= *version)
      continue;
    if (auto ok = apply_step(conn, step); !ok)
      return ok;
  }
  return unit;
}

result<std::vector<applied_migration>> applied_migrations(sqlite_connection& conn) {
  auto stmt = conn.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  if (!stmt)
    return std::move(stmt).err();
  statement_scope scope{*stmt};
  std::vector<applied_migration> rows;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW)
    rows.push_back({sqlite3_column_int(*stmt, 0), sqlite3_column_int64(*stmt, 1)});
  if (rc != SQLITE_DONE)
    return conn.failure("cannot read schema_migrations");
  return rows;
}

} // namespace hive::persistence::internal
