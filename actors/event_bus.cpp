// Event bus: copy-on-write subscriber list, so publishing takes no lock.
#include "actors/event_bus.hpp"

#include <algorithm>
#include <array>

namespace hive::actors {
namespace {

constexpr std::array<std::string_view, event_type_count> names{
  "agent_created",  "agent_updated", "agent_removed", "task_created",
  "task_assigned",  "task_started",  "task_completed", "task_failed",
  "task_retrying",  "task_cancelled", "task_dead",     "metrics_snapshot",
  "alert_raised",   "alert_resolved", "learning_cycle_completed", "script_event"};

} // namespace

std::string_view to_string(event_type x) noexcept {
  return names[static_cast<size_t>(x)];
}

bool from_string(std::string_view in, event_type& out) noexcept {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == in) {
      out = static_cast<event_type>(i);
      return true;
    }
  }
  return false;
}

uint64_t event_bus::subscribe(sink fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto current = std::atomic_load(&subs_);
  auto next = std::make_shared<list>(current ? *current : list{});
  auto token = next_token_++;
  next->push_back(entry{token, std::move(fn)});
  std::atomic_store(&subs_, std::shared_ptr<const list>{std::move(next)});
  return token;
}

void event_bus::unsubscribe(uint64_t token) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto current = std::atomic_load(&subs_);
  if (!current)
    return;
  auto next = std::make_shared<list>(*current);
  next->erase(std::remove_if(next->begin(), next->end(),
                             [token](const entry& e) { return e.token == token; }),
              next->end());
  std::atomic_store(&subs_, std::shared_ptr<const list>{std::move(next)});
}

bool event_bus::has_subscribers() const noexcept {
  auto current = std::atomic_load(&subs_);
  return current && !current->empty();
}

void event_bus::publish(const hive_event& ev) const {
  published_.fetch_add(1, std::memory_order_relaxed);
  auto current = std::atomic_load(&subs_);
  if (!current)
    return;
  for (const auto& e : *current)
    e.fn(ev);
}

uint64_t event_bus::published() const noexcept {
  return published_.load(std::memory_order_relaxed);
}

} // namespace hive::actors
