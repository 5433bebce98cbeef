// Mapping between the records of runtime/model.hpp and rows of the SQLite tables.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <sqlite3.h>

#include <string>

#include "persistence/internal/columns.hpp"
#include "runtime/error.hpp"
#include "runtime/model.hpp"

namespace hive::persistence::internal {


/// Parameters one row takes in the statements below.
inline constexpr int task_params = 19;
inline constexpr int agent_params = 12;
inline constexpr int event_params = 6;

/// Statements that write `rows` records at once; row k (from 0) takes the parameters from
/// k * <kind>_params + 1 on. Rows are applied in order, so for a repeated id the last one wins.
std::string upsert_tasks_sql(size_t rows);
/// Like upsert_tasks_sql, but an existing row is only updated when its type and idempotency
/// key stay the same, and those two (indexed) columns are not rewritten: most upserts are
/// state changes, and rewriting an unchanged indexed column still costs an index update.
/// A row left alone shows as sqlite3_changes() smaller than `rows`.
std::string quick_upsert_tasks_sql(size_t rows);
std::string insert_events_sql(size_t rows);
extern const std::string upsert_agent_sql;
extern const std::string delete_agent_sql; ///< ?1 = agent id

/// Bind the parameters of one row, the first at index `first`. Text is bound without
/// copying, so the record and the scratch buffers must live until the statement has run.
/// Return SQLite's code.
int bind_task(sqlite3_stmt* stmt, int first, const task_record& task,
              rapidjson::StringBuffer& scratch_a, rapidjson::StringBuffer& scratch_b);
int bind_agent(sqlite3_stmt* stmt, const agent_record& agent, rapidjson::StringBuffer& scratch);
int bind_event(sqlite3_stmt* stmt, int first, const task_event& event);

/// Decode the current row; an unknown enum name or malformed JSON column is errc::internal.
result<task_record> read_task(sqlite3_stmt* stmt);
result<agent_record> read_agent(sqlite3_stmt* stmt);
result<task_event> read_event(sqlite3_stmt* stmt);

} // namespace hive::persistence::internal
