// The scheduler actor: admission, routing, the agent directory and the supervision of agents.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/internal/context.hpp"

namespace hive::actors {

/// What the store held at start: agents to re-spawn and tasks to resume.
struct recovered_state {
  std::vector<agent_record> agents;
  std::vector<task_record> unfinished;
  persistence::task_counts counts{};
  std::vector<std::pair<std::string, std::string>> idempotency_keys; ///< (task id, key)
};

/// Spawns the scheduler. It accepts the engine messages of messages.hpp (submit_msg,
/// cancel_msg, retry_msg, agent_*_msg, status_msg, drain_msg) and the task actors' ready_msg,
/// release_msg, finished_msg and await_dep requests. It spawns one actor per agent (and
/// restarts it if it crashes) and one actor per admitted task, at most
/// settings.async_tasks_max at a time; further tasks wait in a durable backlog.
caf::actor spawn_scheduler(caf::actor_system& sys, context_ptr ctx, recovered_state recovered);

} // namespace hive::actors
