// The metrics registry of one Hive (prometheus-cpp, kept out of this header) and the process
// figures read from /proc at scrape time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hive::runtime {

/// The standard process_* figures of Prometheus client libraries.
struct process_stats {
  double cpu_seconds = 0;        ///< user + system CPU time
  double resident_bytes = 0;     ///< resident set size
  double virtual_bytes = 0;      ///< virtual memory size
  double start_time_seconds = 0; ///< since the Unix epoch
  double open_fds = 0;
};

/// What turns /proc/self/stat into seconds and bytes.
struct proc_constants {
  double ticks_per_second = 100; ///< sysconf(_SC_CLK_TCK)
  double page_size = 4096;       ///< sysconf(_SC_PAGESIZE)
  double boot_time_seconds = 0;  ///< `btime` of /proc/stat
};

/// Parses the text of /proc/<pid>/stat (all fields but open_fds). nullopt if it is malformed.
std::optional<process_stats> parse_proc_stat(std::string_view stat, const proc_constants& k);

/// Reads `btime` from the text of /proc/stat; nullopt when absent.
std::optional<double> parse_boot_time(std::string_view proc_stat);

/// Reads this process's figures from /proc; nullopt where /proc is not readable. Thread-safe.
std::optional<process_stats> read_process_stats();

/// Owns the registry every module's metrics struct registers into, and renders it (plus the
/// process figures) as Prometheus text. Built once in app/; modules get `registry()` by
/// reference, never a global. Thread-safe: metrics update from any thread, render from any.
class metrics_registry {
public:
  metrics_registry();
  ~metrics_registry();

  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  prometheus::Registry& registry() noexcept;
  /// For metrics structs that must keep the registry alive from callbacks.
  std::shared_ptr<prometheus::Registry> shared_registry() const noexcept;

  /// Every family of the registry and the process_* figures in the text exposition format.
  std::string render() const;

  /// The Content-Type of `render()`'s text.
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

private:
  std::shared_ptr<prometheus::Registry> registry_;
};

} // namespace hive::runtime
