// Hive's vocabulary: agents, tasks and their states, as plain structs every module shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hive {

/// Milliseconds since the Unix epoch (wall clock); 0 means "not yet".
using timestamp_ms = int64_t;

enum class priority : uint8_t { low = 0, medium = 1, high = 2, critical = 3 };
inline constexpr int priority_levels = 4;

enum class task_status : uint8_t {
  pending,   ///< accepted, waiting for its dependencies
  queued,    ///< waiting for an agent (also between retries)
  running,   ///< an agent is executing it
  completed, ///< finished with a result
  failed,    ///< failed for good (a permanent error, or a dependency failed)
  cancelled, ///< cancelled by a user
  dead,      ///< dead-lettered: every allowed retry failed
};
inline constexpr int task_status_count = 7;

/// `script`: the agent's behaviour is a Lua script (metadata.script names it): it takes only
/// the task types that script defines.
enum class agent_type : uint8_t { worker, specialist, coordinator, learner, script };

enum class agent_state : uint8_t { idle, working, paused, failed, offline };
inline constexpr int agent_state_count = 5;

std::string_view to_string(priority x) noexcept;
std::string_view to_string(task_status x) noexcept;
std::string_view to_string(agent_type x) noexcept;
std::string_view to_string(agent_state x) noexcept;

/// Parsers: return false (leaving `out` alone) for an unknown name.
bool from_string(std::string_view in, priority& out) noexcept;
bool from_string(std::string_view in, task_status& out) noexcept;
bool from_string(std::string_view in, agent_type& out) noexcept;
bool from_string(std::string_view in, agent_state& out) noexcept;

/// True for completed, failed, cancelled and dead.
bool is_terminal(task_status x) noexcept;

struct capability {
  std::string name;
  double proficiency = 0.5;   ///< 0..1
  double learning_rate = 0.1; ///< 0..1, how fast outcomes move the proficiency
};

struct capability_requirement {
  std::string name;
  double min_proficiency = 0.0; ///< 0..1
};

/// An agent as stored and as shown by the API. On creation `id` is empty.
struct agent_record {
  std::string id;
  std::string name;
  agent_type type = agent_type::worker;
  std::vector<capability> capabilities;
  uint32_t max_concurrency = 1;
  agent_state state = agent_state::idle;
  uint64_t tasks_completed = 0;
  uint64_t tasks_failed = 0;
  double mean_latency_ms = 0; ///< mean run time of completed tasks
  std::string metadata_json = "{}"; ///< free-form JSON object given by the user
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
  /// Cluster mode: the node the agent lives on (its actor runs there); empty otherwise. On
  /// creation it holds the requested placement ("least_loaded", a node id, or empty: here).
  std::string node_id;

  /// Proficiency in `name`, or nullopt when the agent lacks it.
  std::optional<double> proficiency(std::string_view name) const noexcept;
};

/// A partial update of an agent (PATCH); unset fields stay as they are.
struct agent_patch {
  std::optional<std::string> name;
  std::optional<agent_state> state; ///< only idle (resume) and paused are accepted
  std::optional<std::vector<capability>> capabilities;
  std::optional<uint32_t> max_concurrency;
  std::optional<std::string> metadata_json;
};

/// A task as stored and as shown by the API. On submission only the spec fields are set.
struct task_record {
  // spec
  std::string id;
  std::string type; ///< the executor's name
  std::string description;
  std::string payload_json = "{}"; ///< JSON object, opaque to the core
  hive::priority priority = priority::medium;
  std::vector<capability_requirement> required_capabilities;
  std::vector<std::string> depends_on;
  uint32_t timeout_ms = 0; ///< 0: the configured default
  uint32_t max_retries = 0;
  std::string idempotency_key;
  // life
  task_status status = task_status::pending;
  uint32_t attempts = 0; ///< executions started so far
  std::string agent_id;  ///< the agent of the latest attempt
  std::string result_json; ///< JSON value; empty until completed
  std::string error;       ///< why the latest attempt failed
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
  timestamp_ms started_at = 0;  ///< latest attempt
  timestamp_ms finished_at = 0; ///< terminal state reached
};

/// One state change of a task, kept forever in the store.
struct task_event {
  std::string task_id;
  task_status status = task_status::pending;
  timestamp_ms at = 0;
  uint32_t attempt = 0;
  std::string agent_id;
  std::string detail; ///< e.g. the error of a failed attempt
};

} // namespace hive
