// Group commit over one or more lanes (internal/commit_lane.cpp does the committing).
#include "persistence/write_behind.hpp"

#include <algorithm>
#include <functional>

#include "persistence/internal/commit_lane.hpp"

namespace hive::persistence {

write_behind::write_behind(store& db, size_t max_batch, size_t max_held, size_t lanes) {
  lanes = std::max<size_t>(1, lanes);
  for (size_t i = 0; i < lanes; ++i)
    lanes_.push_back(std::make_unique<internal::commit_lane>(db, max_batch, max_held));
}

write_behind::~write_behind() {
  stop();
}

size_t write_behind::lane_for(const write_batch& batch) const {
  if (lanes_.size() == 1 || !batch.agents.empty() || !batch.deleted_agents.empty())
    return 0;
  const std::string* key = nullptr;
  if (!batch.tasks.empty())
    key = &batch.tasks.front().id;
  else if (!batch.events.empty())
    key = &batch.events.front().task_id;
  if (key == nullptr)
    return 0;
  return std::hash<std::string>{}(*key) % lanes_.size();
}

void write_behind::enqueue(write_batch batch, commit_callback done) {
  auto i = lane_for(batch);
  lanes_[i]->enqueue(std::move(batch), std::move(done));
}

void write_behind::enqueue_durable(write_batch batch, commit_callback done) {
  auto i = lane_for(batch);
  lanes_[i]->enqueue_durable(std::move(batch), std::move(done));
}

void write_behind::flush() {
  for (auto& lane : lanes_)
    lane->flush();
}

void write_behind::stop() {
  for (auto& lane : lanes_)
    lane->stop();
}

write_behind_stats write_behind::stats() const {
  write_behind_stats sum;
  for (const auto& lane : lanes_) {
    auto s = lane->stats();
    sum.commits += s.commits;
    sum.failed_commits += s.failed_commits;
    sum.items += s.items;
    sum.largest_batch = std::max(sum.largest_batch, s.largest_batch);
    sum.held += s.held;
    sum.dropped += s.dropped;
  }
  return sum;
}

void write_behind::set_commit_observer(commit_observer fn) {
  for (auto& lane : lanes_)
    lane->set_commit_observer(fn);
}

} // namespace hive::persistence
