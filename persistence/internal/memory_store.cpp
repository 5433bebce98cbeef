// The in-memory store: ordered maps, with an undo log that makes each batch all-or-nothing.
#include "persistence/internal/memory_store.hpp"

#include <algorithm>

namespace hive::persistence::internal {
namespace {

bool matches(const task_record& task, const task_filter& filter) {
  if (filter.status && task.status != *filter.status)
    return false;
  if (filter.type && task.type != *filter.type)
    return false;
  if (filter.agent_id && task.agent_id != *filter.agent_id)
    return false;
  if (filter.capability) {
    auto& reqs = task.required_capabilities;
    auto same_name = [&](const capability_requirement& r) { return r.name == *filter.capability; };
    if (std::none_of(reqs.begin(), reqs.end(), same_name))
      return false;
  }
  return true;
}

bool unfinished(task_status status) {
  return status == task_status::pending || status == task_status::queued
         || status == task_status::running;
}

} // namespace

result<unit_t> memory_store::apply(const write_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  // Only task upserts can fail (a taken idempotency key), so they go first and are undone on
  // failure; the rest cannot fail once they start.
  std::vector<undo_entry> undo;
  for (const auto& task : batch.tasks) {
    if (auto ok = upsert_task(task, undo); !ok) {
      undo_tasks(undo);
      return ok;
    }
  }
  for (const auto& event : batch.events)
    events_[event.task_id].push_back(event);
  for (const auto& agent : batch.agents)
    agents_[agent.id] = agent;
  for (const auto& id : batch.deleted_agents)
    agents_.erase(id);
  return unit;
}

result<unit_t> memory_store::upsert_task(const task_record& task, std::vector<undo_entry>& undo) {
  if (!task.idempotency_key.empty()) {
    auto owner = task_by_key_.find(task.idempotency_key);
    if (owner != task_by_key_.end() && owner->second != task.id)
      return make_error(errc::store_unavailable,
                        "cannot store task '" + task.id + "': idempotency key '"
                          + task.idempotency_key + "' belongs to task '" + owner->second + "'");
  }
  auto old = tasks_.find(task.id);
  undo.emplace_back(task.id, old == tasks_.end() ? std::nullopt
                                                 : std::optional<task_record>{old->second});
  put_task(task.id, task);
  return unit;
}

void memory_store::put_task(const std::string& id, std::optional<task_record> record) {
  if (auto old = tasks_.find(id); old != tasks_.end()) {
    task_by_key_.erase(old->second.idempotency_key);
    tasks_.erase(old);
  }
  if (record) {
    if (!record->idempotency_key.empty())
      task_by_key_[record->idempotency_key] = id;
    tasks_.emplace(id, std::move(*record));
  }
}

void memory_store::undo_tasks(std::vector<undo_entry>& undo) {
  // Newest first, so that a task touched twice ends in its state before the batch.
  for (auto i = undo.rbegin(); i != undo.rend(); ++i)
    put_task(i->first, std::move(i->second));
}

result<std::optional<task_record>> memory_store::find_task(std::string_view id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = tasks_.find(id); i != tasks_.end())
    return std::optional<task_record>{i->second};
  return std::optional<task_record>{};
}

result<std::optional<task_record>> memory_store::find_task_by_key(std::string_view key) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = task_by_key_.find(key); i != task_by_key_.end() && !key.empty())
    return std::optional<task_record>{tasks_.at(i->second)};
  return std::optional<task_record>{};
}

result<std::vector<task_record>> memory_store::list_tasks(const task_filter& filter) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<task_record> out;
  for (auto i = tasks_.upper_bound(filter.after_id);
       i != tasks_.end() && out.size() < filter.limit; ++i)
    if (matches(i->second, filter))
      out.push_back(i->second);
  return out;
}

result<std::vector<task_event>> memory_store::task_events(std::string_view task_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = events_.find(task_id); i != events_.end())
    return i->second;
  return std::vector<task_event>{};
}

result<std::vector<task_record>> memory_store::unfinished_tasks() {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<task_record> out;
  for (const auto& [id, task] : tasks_)
    if (unfinished(task.status))
      out.push_back(task);
  return out;
}

result<std::vector<std::pair<std::string, std::string>>> memory_store::idempotency_keys() {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, task] : tasks_)
    if (!task.idempotency_key.empty())
      out.emplace_back(id, task.idempotency_key);
  return out;
}

result<task_counts> memory_store::count_tasks() {
  std::lock_guard<std::mutex> guard{mtx_};
  task_counts counts{};
  for (const auto& [id, task] : tasks_)
    ++counts[static_cast<size_t>(task.status)];
  return counts;
}

result<std::vector<agent_record>> memory_store::load_agents() {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<agent_record> out;
  out.reserve(agents_.size());
  for (const auto& [id, agent] : agents_)
    out.push_back(agent);
  return out;
}

result<unit_t> memory_store::ping() {
  return unit;
}

result<unit_t> memory_store::put_object(const stored_object& object) {
  std::lock_guard<std::mutex> guard{mtx_};
  objects_[object.kind][object.name] = object;
  return unit;
}

result<bool> memory_store::delete_object(std::string_view kind, std::string_view name) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto k = objects_.find(kind);
  if (k == objects_.end())
    return false;
  auto o = k->second.find(name);
  if (o == k->second.end())
    return false;
  k->second.erase(o);
  return true;
}

result<std::optional<stored_object>> memory_store::find_object(std::string_view kind,
                                                               std::string_view name) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto k = objects_.find(kind);
  if (k == objects_.end())
    return std::optional<stored_object>{};
  auto o = k->second.find(name);
  if (o == k->second.end())
    return std::optional<stored_object>{};
  return std::optional<stored_object>{o->second};
}

result<std::vector<stored_object>> memory_store::list_objects(std::string_view kind) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<stored_object> out;
  auto k = objects_.find(kind);
  if (k == objects_.end())
    return out;
  for (const auto& [name, object] : k->second) {
    out.push_back(object);
    out.back().body.clear();
  }
  return out;
}

} // namespace hive::persistence::internal
