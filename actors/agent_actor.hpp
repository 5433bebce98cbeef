// The agent actor: runs tasks' executors within the agent's concurrency, off-thread when blocking.
#pragma once

#include <caf/fwd.hpp>

#include "actors/internal/context.hpp"

namespace hive::actors {

/// Spawns an agent's actor (the scheduler keeps which agent it serves). Protocol: (run_atom, task_ptr) -> execution_result.
/// Inline executors answer at once; blocking ones run on the context's pool; results with
/// `ready_after_ms` are delivered after that delay. An executor that throws crashes the actor
/// (its supervisor, the scheduler, restarts it).
caf::actor spawn_agent_actor(caf::local_actor* parent, context_ptr ctx);

} // namespace hive::actors
