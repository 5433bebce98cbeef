// The agent actor: runs tasks' executors within the agent's concurrency, off-thread when blocking.
#pragma once

#include <caf/fwd.hpp>

#include "actors/internal/context.hpp"

namespace hive::actors {

/// Spawns an agent's actor (the scheduler keeps which agent it serves).
/// Protocol: (run_atom, task_ptr, execution_context_ptr) -> execution_result; (cancel_run_atom, task id) drops a run.
/// Inline executors answer at once; blocking ones run on the context's pool. A result with
/// `ready_after_ms` is answered at once too: the task actor waits it out, so agents hold no
/// timers. An executor that throws crashes the actor (the scheduler restarts it).
caf::actor spawn_agent_actor(caf::local_actor* parent, context_ptr ctx);

} // namespace hive::actors
