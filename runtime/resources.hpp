// How much of the machine this process uses: CPU and memory as percentages of what it may use
// (its CPU affinity and cgroup quota, its cgroup memory limit or the machine's memory).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace hive::runtime {

struct resource_reading {
  double cpu_percent = 0;        ///< of the CPUs this process may use, since the last reading
  double memory_percent = 0;     ///< resident memory / memory_limit_bytes
  double resident_bytes = 0;
  double memory_limit_bytes = 0; ///< cgroup limit, else the machine's memory
  double open_fds = 0;
};

/// `MemTotal` of /proc/meminfo in bytes; nullopt when absent.
std::optional<double> parse_meminfo_total(std::string_view meminfo);

/// A cgroup v2 `memory.max` in bytes; nullopt for "max" (no limit) or junk.
std::optional<double> parse_cgroup_memory_max(std::string_view text);

/// CPUs granted by a cgroup v2 `cpu.max` ("quota period"); nullopt for "max" or junk.
std::optional<double> parse_cgroup_cpu_max(std::string_view text);

/// Turns successive /proc readings into percentages. Not thread-safe: one owner samples.
class resource_sampler {
public:
  resource_sampler();

  /// The first reading's CPU figure covers the time since the sampler was made.
  resource_reading sample();

  double cpus() const noexcept { return cpus_; }
  double memory_limit_bytes() const noexcept { return memory_limit_; }

private:
  double cpus_ = 1;
  double memory_limit_ = 0;
  double last_cpu_seconds_ = 0;
  std::chrono::steady_clock::time_point last_at_;
};

} // namespace hive::runtime
