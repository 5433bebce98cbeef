// The registry wrapper, its text rendering and the /proc process collector.
#include "runtime/metrics.hpp"

#include "runtime/internal/proc_text.hpp"

#include <cstdlib>
#include <dirent.h>
#include <unistd.h>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace hive::runtime {
namespace {

/// Entries of /proc/self/fd, less the one opendir itself holds.
std::optional<double> count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr)
    return std::nullopt;
  double count = 0;
  while (auto* entry = readdir(dir))
    if (entry->d_name[0] != '.')
      ++count;
  closedir(dir);
  return count - 1;
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily out;
  out.name = std::move(name);
  out.help = std::move(help);
  out.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  out.metric.push_back(std::move(m));
  return out;
}

/// The process_* families, read at each scrape; none when /proc cannot be read.
std::vector<prometheus::MetricFamily> collect_process() {
  std::vector<prometheus::MetricFamily> out;
  auto stats = read_process_stats();
  if (!stats)
    return out;
  using prometheus::MetricType;
  out.push_back(family("process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", MetricType::Counter,
                       stats->cpu_seconds));
  out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                       MetricType::Gauge, stats->resident_bytes));
  out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                       MetricType::Gauge, stats->virtual_bytes));
  out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                       stats->open_fds));
  out.push_back(family("process_start_time_seconds",
                       "Start time of the process since the Unix epoch in seconds.",
                       MetricType::Gauge, stats->start_time_seconds));
  return out;
}

} // namespace

std::optional<process_stats> parse_proc_stat(std::string_view stat, const proc_constants& k) {
  // Field 2 (comm) is in parentheses and may hold spaces and ')': the fields after the last
  // ')' are plain numbers, starting with field 3 (state).
  auto close = stat.rfind(')');
  if (close == std::string_view::npos || k.ticks_per_second <= 0)
    return std::nullopt;
  std::vector<std::string_view> fields;
  auto rest = stat.substr(close + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n'))
      ++pos;
    auto end = pos;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\n')
      ++end;
    if (end > pos)
      fields.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  // fields[i] is field i + 3 of proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (fields.size() < 22)
    return std::nullopt;
  auto utime = internal::parse_number(fields[11]);
  auto stime = internal::parse_number(fields[12]);
  auto start = internal::parse_number(fields[19]);
  auto vsize = internal::parse_number(fields[20]);
  auto rss = internal::parse_number(fields[21]);
  if (!utime || !stime || !start || !vsize || !rss)
    return std::nullopt;
  process_stats out;
  out.cpu_seconds = (*utime + *stime) / k.ticks_per_second;
  out.start_time_seconds = k.boot_time_seconds + *start / k.ticks_per_second;
  out.virtual_bytes = *vsize;
  out.resident_bytes = *rss * k.page_size;
  return out;
}

std::optional<double> parse_boot_time(std::string_view proc_stat) {
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    auto end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos)
      end = proc_stat.size();
    auto line = proc_stat.substr(pos, end - pos);
    if (line.rfind("btime ", 0) == 0)
      return internal::parse_number(line.substr(6));
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<process_stats> read_process_stats() {
  // Boot time never changes while we run: read it once.
  static const std::optional<double> boot = [] {
    auto text = internal::read_text_file("/proc/stat");
    return text ? parse_boot_time(*text) : std::nullopt;
  }();
  auto stat = internal::read_text_file("/proc/self/stat");
  auto fds = count_open_fds();
  if (!stat || !boot || !fds)
    return std::nullopt;
  proc_constants k;
  k.ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  k.page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  k.boot_time_seconds = *boot;
  auto out = parse_proc_stat(*stat, k);
  if (out)
    out->open_fds = *fds;
  return out;
}

metrics_registry::metrics_registry() : registry_(std::make_shared<prometheus::Registry>()) {}

metrics_registry::~metrics_registry() = default;

prometheus::Registry& metrics_registry::registry() noexcept {
  return *registry_;
}

std::shared_ptr<prometheus::Registry> metrics_registry::shared_registry() const noexcept {
  return registry_;
}

std::string metrics_registry::render() const {
  auto families = registry_->Collect();
  for (auto& f : collect_process())
    families.push_back(std::move(f));
  return prometheus::TextSerializer{}.Serialize(families);
}

} // namespace hive::runtime
