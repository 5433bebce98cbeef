// CAF scheduler settings from Hive's configuration.
#include "runtime/actor_system_setup.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include "runtime/config.hpp"

namespace hive::runtime {

void configure_actor_system(caf::actor_system_config& sys_cfg, const config& cfg) {
  auto policy = cfg.performance.scheduler_policy == "sharing" ? caf::atom("sharing")
                                                              : caf::atom("stealing");
  sys_cfg.set("scheduler.policy", policy);
  sys_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.performance.worker_threads));
  // Keep CAF's own logger quiet; Hive logs through runtime/log.
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
}

} // namespace hive::runtime
