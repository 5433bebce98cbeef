// Binding records to the SQLite statements and decoding rows back into records.
#include "persistence/internal/sqlite_rows.hpp"

#include <limits>

#include "persistence/internal/json_columns.hpp"
#include "persistence/internal/sqlite_connection.hpp"

namespace hive::persistence::internal {
namespace {

std::string_view buffer_view(const rapidjson::StringBuffer& buf) {
  return {buf.GetString(), buf.GetSize()};
}

error bad_column(std::string_view table, const std::string& id, std::string_view column) {
  std::string msg{table};
  msg += " row '" + id + "' has an unreadable ";
  msg += column;
  return make_error(errc::internal, std::move(msg));
}

uint32_t column_u32(sqlite3_stmt* stmt, int col) {
  auto value = sqlite3_column_int64(stmt, col);
  if (value < 0)
    return 0;
  if (value > std::numeric_limits<uint32_t>::max())
    return std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(value);
}

} // namespace

const std::string upsert_agent_sql =
  "INSERT INTO agents (" + agent_columns
  + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE "
    "SET "
  + agent_updates;

namespace {

// "(?1, ?2, ...), (?n+1, ...)" for `rows` rows of `params` parameters each.
std::string values_list(size_t rows, int params) {
  std::string out;
  int index = 1;
  for (size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (int p = 0; p < params; ++p, ++index) {
      if (p > 0)
        out += ", ";
      out += '?';
      out += std::to_string(index);
    }
    out += ')';
  }
  return out;
}

} // namespace

std::string upsert_tasks_sql(size_t rows) {
  return "INSERT INTO tasks (" + task_columns + ") VALUES " + values_list(rows, task_params)
         + " ON CONFLICT (id) DO UPDATE SET type = excluded.type, idempotency_key = "
           "excluded.idempotency_key, "
         + task_life_updates;
}

std::string quick_upsert_tasks_sql(size_t rows) {
  return "INSERT INTO tasks (" + task_columns + ") VALUES " + values_list(rows, task_params)
         + " ON CONFLICT (id) DO UPDATE SET " + task_life_updates
         + " WHERE tasks.type = excluded.type"
           " AND tasks.idempotency_key IS excluded.idempotency_key";
}

std::string insert_events_sql(size_t rows) {
  return "INSERT INTO task_events (" + event_columns + ") VALUES "
         + values_list(rows, event_params);
}

const std::string delete_agent_sql = "DELETE FROM agents WHERE id = ?1";

int bind_task(sqlite3_stmt* stmt, int first, const task_record& task,
              rapidjson::StringBuffer& scratch_a, rapidjson::StringBuffer& scratch_b) {
  write_json(task.required_capabilities, scratch_a);
  write_json(task.depends_on, scratch_b);
  int i = first;
  binder b{stmt};
  b.text(i, task.id)
    .text(i + 1, task.type)
    .text(i + 2, task.description)
    .text(i + 3, task.payload_json)
    .integer(i + 4, static_cast<int64_t>(task.priority))
    .text(i + 5, buffer_view(scratch_a))
    .text(i + 6, buffer_view(scratch_b))
    .integer(i + 7, task.timeout_ms)
    .integer(i + 8, task.max_retries)
    .text_or_null(i + 9, task.idempotency_key)
    .text(i + 10, to_string(task.status))
    .integer(i + 11, task.attempts)
    .text(i + 12, task.agent_id)
    .text(i + 13, task.result_json)
    .text(i + 14, task.error)
    .integer(i + 15, task.created_at)
    .integer(i + 16, task.updated_at)
    .integer(i + 17, task.started_at)
    .integer(i + 18, task.finished_at);
  return b.rc();
}

int bind_agent(sqlite3_stmt* stmt, const agent_record& agent, rapidjson::StringBuffer& scratch) {
  write_json(agent.capabilities, scratch);
  binder b{stmt};
  b.text(1, agent.id)
    .text(2, agent.name)
    .text(3, to_string(agent.type))
    .text(4, buffer_view(scratch))
    .integer(5, agent.max_concurrency)
    .text(6, to_string(agent.state))
    .integer(7, static_cast<int64_t>(agent.tasks_completed))
    .integer(8, static_cast<int64_t>(agent.tasks_failed))
    .real(9, agent.mean_latency_ms)
    .text(10, agent.metadata_json)
    .integer(11, agent.created_at)
    .integer(12, agent.updated_at);
  return b.rc();
}

int bind_event(sqlite3_stmt* stmt, int first, const task_event& event) {
  int i = first;
  binder b{stmt};
  b.text(i, event.task_id)
    .text(i + 1, to_string(event.status))
    .integer(i + 2, event.at)
    .integer(i + 3, event.attempt)
    .text(i + 4, event.agent_id)
    .text(i + 5, event.detail);
  return b.rc();
}

result<task_record> read_task(sqlite3_stmt* stmt) {
  task_record t;
  t.id = column_text(stmt, 0);
  t.type = column_text(stmt, 1);
  t.description = column_text(stmt, 2);
  t.payload_json = column_text(stmt, 3);
  auto prio = sqlite3_column_int64(stmt, 4);
  if (prio < 0 || prio >= priority_levels)
    return bad_column("tasks", t.id, "priority");
  t.priority = static_cast<priority>(prio);
  if (!read_json(column_text(stmt, 5), t.required_capabilities))
    return bad_column("tasks", t.id, "required_capabilities");
  if (!read_json(column_text(stmt, 6), t.depends_on))
    return bad_column("tasks", t.id, "depends_on");
  t.timeout_ms = column_u32(stmt, 7);
  t.max_retries = column_u32(stmt, 8);
  t.idempotency_key = column_text(stmt, 9);
  if (!from_string(column_text(stmt, 10), t.status))
    return bad_column("tasks", t.id, "status");
  t.attempts = column_u32(stmt, 11);
  t.agent_id = column_text(stmt, 12);
  t.result_json = column_text(stmt, 13);
  t.error = column_text(stmt, 14);
  t.created_at = sqlite3_column_int64(stmt, 15);
  t.updated_at = sqlite3_column_int64(stmt, 16);
  t.started_at = sqlite3_column_int64(stmt, 17);
  t.finished_at = sqlite3_column_int64(stmt, 18);
  return t;
}

result<agent_record> read_agent(sqlite3_stmt* stmt) {
  agent_record a;
  a.id = column_text(stmt, 0);
  a.name = column_text(stmt, 1);
  if (!from_string(column_text(stmt, 2), a.type))
    return bad_column("agents", a.id, "type");
  if (!read_json(column_text(stmt, 3), a.capabilities))
    return bad_column("agents", a.id, "capabilities");
  a.max_concurrency = column_u32(stmt, 4);
  if (!from_string(column_text(stmt, 5), a.state))
    return bad_column("agents", a.id, "state");
  a.tasks_completed = static_cast<uint64_t>(sqlite3_column_int64(stmt, 6));
  a.tasks_failed = static_cast<uint64_t>(sqlite3_column_int64(stmt, 7));
  a.mean_latency_ms = sqlite3_column_double(stmt, 8);
  a.metadata_json = column_text(stmt, 9);
  a.created_at = sqlite3_column_int64(stmt, 10);
  a.updated_at = sqlite3_column_int64(stmt, 11);
  return a;
}

result<task_event> read_event(sqlite3_stmt* stmt) {
  task_event e;
  e.task_id = column_text(stmt, 0);
  if (!from_string(column_text(stmt, 1), e.status))
    return bad_column("task_events", e.task_id, "status");
  e.at = sqlite3_column_int64(stmt, 2);
  e.attempt = column_u32(stmt, 3);
  e.agent_id = column_text(stmt, 4);
  e.detail = column_text(stmt, 5);
  return e;
}

} // namespace hive::persistence::internal
