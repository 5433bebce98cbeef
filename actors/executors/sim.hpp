// `sim`: an evaluation executor whose outcome depends on hidden traits of the agent that runs
// it. It does no real work; it exists to measure routing policies (bench/, issue 5).
#pragma once

#include <memory>

#include "actors/executor.hpp"

namespace hive::actors {

/// Payload: `{"kind": "<name>", "work": <multiplier, default 1>}`. The agent's metadata gives
/// its traits:
///
///     {"sim": {"skill": {"<kind>": <0..1>, ...}, "default_skill": 0.5,
///              "latency_ms": {"<kind>": <ms>, ...}, "default_latency_ms": 10}}
///
/// A run succeeds with probability `skill[kind]` (else `default_skill`), decided by a hash of
/// the task id, the attempt and the agent id (the same run always ends the same way), and
/// takes `latency_ms[kind] * work` (held back, not slept). A failure is retryable. The result
/// is `{"kind", "skill", "latency_ms"}`. Missing traits take the defaults; a payload without a
/// string `kind` fails for good.
std::shared_ptr<const executor> make_sim_executor();

} // namespace hive::actors
