// Requirement classes of tasks.
#include "actors/dispatch_queue.hpp"

#include <cstdio>

namespace hive::actors {

std::string requirement_class(const task_record& task) {
  if (task.required_capabilities.empty())
    return {};
  auto reqs = task.required_capabilities;
  std::sort(reqs.begin(), reqs.end(),
            [](const capability_requirement& a, const capability_requirement& b) {
              return a.name < b.name;
            });
  std::string out;
  for (const auto& r : reqs) {
    char min[32];
    std::snprintf(min, sizeof(min), "%.17g", r.min_proficiency); // exact: no two minimums merge
    out += r.name;
    out += '\x1f'; // unit separator: cannot clash with a name's own characters in practice
    out += min;
    out += '\x1e';
  }
  return out;
}

} // namespace hive::actors
