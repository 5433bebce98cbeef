// The in-memory store behind `memory://`: maps guarded by one mutex, nothing survives exit.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace hive::persistence::internal {

/// Same semantics as the SQLite store, including the unique idempotency key and all-or-nothing
/// batches. Every function takes the one mutex, so reads wait for a running `apply`.
class memory_store final : public store {
public:
  std::string_view name() const noexcept override { return "memory"; }
  result<unit_t> apply(const write_batch& batch) override;
  result<std::optional<task_record>> find_task(std::string_view id) override;
  result<std::optional<task_record>> find_task_by_key(std::string_view idempotency_key) override;
  result<std::vector<task_record>> list_tasks(const task_filter& filter) override;
  result<std::vector<task_event>> task_events(std::string_view task_id) override;
  result<std::vector<task_record>> unfinished_tasks() override;
  result<std::vector<std::pair<std::string, std::string>>> idempotency_keys() override;
  result<task_counts> count_tasks() override;
  result<std::vector<agent_record>> load_agents() override;
  result<unit_t> ping() override;
  result<unit_t> put_object(const stored_object& object) override;
  result<bool> delete_object(std::string_view kind, std::string_view name) override;
  result<std::optional<stored_object>> find_object(std::string_view kind,
                                                   std::string_view name) override;
  result<std::vector<stored_object>> list_objects(std::string_view kind) override;

private:
  /// A task's state before the running batch first touched it (nullopt: it did not exist).
  using undo_entry = std::pair<std::string, std::optional<task_record>>;

  result<unit_t> upsert_task(const task_record& task, std::vector<undo_entry>& undo);
  void put_task(const std::string& id, std::optional<task_record> record);
  void undo_tasks(std::vector<undo_entry>& undo);

  std::mutex mtx_;
  std::map<std::string, task_record, std::less<>> tasks_;
  std::map<std::string, std::string, std::less<>> task_by_key_; ///< idempotency key -> task id
  std::map<std::string, std::vector<task_event>, std::less<>> events_; ///< by task id, in order
  std::map<std::string, agent_record, std::less<>> agents_;
  /// By kind, then name.
  std::map<std::string, std::map<std::string, stored_object, std::less<>>, std::less<>> objects_;
};

} // namespace hive::persistence::internal
