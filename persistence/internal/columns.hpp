// The column lists of the tables every SQL store shares (SQLite and PostgreSQL have the same
// tables and columns): SELECT lists in the order the row readers expect, and the SET lists of
// the upserts (`excluded.` is the same in both dialects).
#pragma once

#include <string>

namespace hive::persistence::internal {

inline const std::string task_columns =
  "id, type, description, payload, priority, required_capabilities, depends_on, timeout_ms, "
  "max_retries, idempotency_key, status, attempts, agent_id, result, error, created_at, "
  "updated_at, started_at, finished_at";

inline const std::string agent_columns =
  "id, name, type, capabilities, max_concurrency, state, tasks_completed, tasks_failed, "
  "mean_latency_ms, metadata, created_at, updated_at";

inline const std::string event_columns = "task_id, status, at, attempt, agent_id, detail";

/// Every column of a task but id, type and idempotency_key, set from the new row.
inline const std::string task_life_updates =
  "description = excluded.description, payload = excluded.payload, priority = "
  "excluded.priority, required_capabilities = excluded.required_capabilities, depends_on = "
  "excluded.depends_on, timeout_ms = excluded.timeout_ms, max_retries = excluded.max_retries, "
  "status = excluded.status, attempts = excluded.attempts, agent_id = excluded.agent_id, "
  "result = excluded.result, error = excluded.error, created_at = excluded.created_at, "
  "updated_at = excluded.updated_at, started_at = excluded.started_at, finished_at = "
  "excluded.finished_at";

/// Every column of an agent but id, set from the new row.
inline const std::string agent_updates =
  "name = excluded.name, type = excluded.type, capabilities = excluded.capabilities, "
  "max_concurrency = excluded.max_concurrency, state = excluded.state, tasks_completed = "
  "excluded.tasks_completed, tasks_failed = excluded.tasks_failed, mean_latency_ms = "
  "excluded.mean_latency_ms, metadata = excluded.metadata, created_at = excluded.created_at, "
  "updated_at = excluded.updated_at";

} // namespace hive::persistence::internal
