// Turns Hive's performance settings into a CAF actor system configuration.
#pragma once

namespace caf {
class actor_system_config;
} // namespace caf

namespace hive::runtime {

struct config;

/// Sets the scheduler policy and thread count from `cfg.performance`. Never reads
/// caf-application.ini (the system is configured only through Hive's settings).
void configure_actor_system(caf::actor_system_config& sys_cfg, const config& cfg);

} // namespace hive::runtime
