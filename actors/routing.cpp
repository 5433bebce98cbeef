// The heuristic scorer and the capability check.
#include "actors/routing.hpp"

#include <algorithm>

namespace hive::actors {

bool meets_requirements(const task_record& task, const agent_record& agent) noexcept {
  for (const auto& req : task.required_capabilities) {
    auto prof = agent.proficiency(req.name);
    if (!prof || *prof < req.min_proficiency)
      return false;
  }
  return true;
}

double heuristic_scorer::proficiency_term(const task_record& task, const agent_record& agent) {
  if (task.required_capabilities.empty())
    return agent.proficiency(task.type).value_or(0.5);
  double sum = 0;
  for (const auto& req : task.required_capabilities)
    sum += agent.proficiency(req.name).value_or(0.0);
  return sum / static_cast<double>(task.required_capabilities.size());
}

bool learn_proficiency(agent_record& agent, const task_record& task, bool success) noexcept {
  double target = success ? 1.0 : 0.0;
  bool changed = false;
  auto learn = [&](std::string_view name) {
    for (auto& cap : agent.capabilities)
      if (cap.name == name && cap.learning_rate > 0) {
        cap.proficiency = std::clamp(cap.proficiency + cap.learning_rate * (target - cap.proficiency),
                                     0.0, 1.0);
        changed = true;
      }
  };
  if (task.required_capabilities.empty())
    learn(task.type);
  for (const auto& req : task.required_capabilities)
    learn(req.name);
  return changed;
}

double heuristic_scorer::success_rate(const agent_record& agent) {
  return (static_cast<double>(agent.tasks_completed) + 1.0)
         / (static_cast<double>(agent.tasks_completed + agent.tasks_failed) + 2.0);
}

double heuristic_scorer::score(const task_record& task, const agent_record& agent,
                               uint32_t load) const {
  auto capacity = std::max<uint32_t>(agent.max_concurrency, 1);
  double free_share = 1.0 - static_cast<double>(std::min(load, capacity)) / capacity;
  return 0.5 * proficiency_term(task, agent) + 0.3 * success_rate(agent) + 0.2 * free_share;
}

} // namespace hive::actors
