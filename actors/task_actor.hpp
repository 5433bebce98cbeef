// The task actor: owns one task from admission to a terminal state.
#pragma once

#include <optional>

#include <caf/fwd.hpp>

#include "actors/internal/context.hpp"
#include "actors/messages.hpp"

namespace hive::actors {

/// Spawns the actor of an admitted (already stored) task. It waits for the task's dependencies,
/// asks `scheduler` for an agent (ready_msg), runs the attempt on the assigned agent with the
/// task's timeout, retries with backoff, stores every state change and tells the scheduler when
/// it releases an agent (release_msg) and when it is done (finished_msg). With `first`, the
/// task was dormant and starts right away with that assignment.
caf::actor spawn_task_actor(caf::local_actor* parent, context_ptr ctx, caf::actor scheduler,
                            task_ptr task, std::optional<assign_msg> first = std::nullopt);

} // namespace hive::actors
