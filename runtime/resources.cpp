// The resource sampler: /proc/self for this process, cgroup files and /proc/meminfo for limits.
#include "runtime/resources.hpp"

#include <algorithm>
#include <sched.h>
#include <string>

#include "runtime/internal/proc_text.hpp"
#include "runtime/metrics.hpp"

namespace hive::runtime {
namespace {

/// A number above zero; nullopt for "max", junk, zero or less.
std::optional<double> positive_number(std::string_view text) {
  auto v = internal::parse_number(text);
  if (!v || !(*v > 0))
    return std::nullopt;
  return v;
}

double usable_cpus() {
  double cpus = 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    cpus = std::max(1, CPU_COUNT(&set));
  if (auto text = internal::read_text_file("/sys/fs/cgroup/cpu.max"))
    if (auto quota = parse_cgroup_cpu_max(*text))
      cpus = std::min(cpus, std::max(0.01, *quota));
  return cpus;
}

double memory_limit() {
  double limit = 0;
  if (auto text = internal::read_text_file("/proc/meminfo"))
    if (auto total = parse_meminfo_total(*text))
      limit = *total;
  if (auto text = internal::read_text_file("/sys/fs/cgroup/memory.max"))
    if (auto max = parse_cgroup_memory_max(*text); max && (limit == 0 || *max < limit))
      limit = *max;
  return limit;
}

} // namespace

std::optional<double> parse_meminfo_total(std::string_view meminfo) {
  auto pos = meminfo.find("MemTotal:");
  if (pos == std::string_view::npos)
    return std::nullopt;
  auto line = meminfo.substr(pos + 9);
  line = line.substr(0, line.find('\n'));
  while (!line.empty() && line.back() == ' ')
    line.remove_suffix(1);
  if (line.size() > 3 && line.substr(line.size() - 3) == " kB")
    line.remove_suffix(3);
  auto kib = positive_number(line);
  if (!kib)
    return std::nullopt;
  return *kib * 1024;
}

std::optional<double> parse_cgroup_memory_max(std::string_view text) {
  return positive_number(text);
}

std::optional<double> parse_cgroup_cpu_max(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  auto space = text.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  auto quota = positive_number(text.substr(0, space));
  auto period = positive_number(text.substr(space + 1));
  if (!quota || !period)
    return std::nullopt;
  return *quota / *period;
}

resource_sampler::resource_sampler()
  : cpus_(usable_cpus()), memory_limit_(memory_limit()),
    last_at_(std::chrono::steady_clock::now()) {
  if (auto stats = read_process_stats())
    last_cpu_seconds_ = stats->cpu_seconds;
}

resource_reading resource_sampler::sample() {
  resource_reading out;
  out.memory_limit_bytes = memory_limit_;
  auto stats = read_process_stats();
  auto now = std::chrono::steady_clock::now();
  if (!stats)
    return out;
  double wall = std::chrono::duration<double>(now - last_at_).count();
  if (wall > 0)
    out.cpu_percent =
      std::clamp((stats->cpu_seconds - last_cpu_seconds_) / (wall * cpus_) * 100.0, 0.0, 100.0);
  last_cpu_seconds_ = stats->cpu_seconds;
  last_at_ = now;
  out.resident_bytes = stats->resident_bytes;
  out.open_fds = stats->open_fds;
  if (memory_limit_ > 0)
    out.memory_percent = stats->resident_bytes / memory_limit_ * 100.0;
  return out;
}

} // namespace hive::runtime
