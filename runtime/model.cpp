// Names of Hive's enums as they appear in the API and the store.
#include "runtime/model.hpp"

#include <array>

namespace hive {
namespace {

constexpr std::array<std::string_view, 4> priority_names{"low", "medium", "high", "critical"};
constexpr std::array<std::string_view, 7> task_status_names{
  "pending", "queued", "running", "completed", "failed", "cancelled", "dead"};
constexpr std::array<std::string_view, 5> agent_type_names{"worker", "specialist", "coordinator",
                                                           "learner", "script"};
constexpr std::array<std::string_view, 5> agent_state_names{"idle", "working", "paused", "failed",
                                                            "offline"};

template <class Enum, size_t N>
bool parse(const std::array<std::string_view, N>& names, std::string_view in, Enum& out) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == in) {
      out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

} // namespace

std::string_view to_string(priority x) noexcept {
  return priority_names[static_cast<size_t>(x)];
}
std::string_view to_string(task_status x) noexcept {
  return task_status_names[static_cast<size_t>(x)];
}
std::string_view to_string(agent_type x) noexcept {
  return agent_type_names[static_cast<size_t>(x)];
}
std::string_view to_string(agent_state x) noexcept {
  return agent_state_names[static_cast<size_t>(x)];
}

bool from_string(std::string_view in, priority& out) noexcept {
  return parse(priority_names, in, out);
}
bool from_string(std::string_view in, task_status& out) noexcept {
  return parse(task_status_names, in, out);
}
bool from_string(std::string_view in, agent_type& out) noexcept {
  return parse(agent_type_names, in, out);
}
bool from_string(std::string_view in, agent_state& out) noexcept {
  return parse(agent_state_names, in, out);
}

bool is_terminal(task_status x) noexcept {
  switch (x) {
    case task_status::completed:
    case task_status::failed:
    case task_status::cancelled:
    case task_status::dead:
      return true;
    default:
      return false;
  }
}

std::optional<double> agent_record::proficiency(std::string_view name) const noexcept {
  for (const auto& cap : capabilities)
    if (cap.name == name)
      return cap.proficiency;
  return std::nullopt;
}

} // namespace hive
