// Spawning the monitor's ticking actor (engine.cpp only).
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/internal/context.hpp"
#include "actors/monitor.hpp"

namespace hive::actors {

/// Every `interval_secs`: reads the resources, asks `scheduler` for its status and has `mon`
/// take a snapshot. Stops on stop_atom.
caf::actor spawn_monitor(caf::actor_system& sys, std::shared_ptr<monitor> mon, context_ptr ctx,
                         caf::actor scheduler);

} // namespace hive::actors
