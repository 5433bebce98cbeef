// Queued tasks grouped by what they require, so tasks nobody can run never block the others.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/ready_queue.hpp"
#include "runtime/model.hpp"

namespace hive::actors {

/// The requirement class of a task: its required capabilities, sorted, with their minimums.
/// Tasks of one class are eligible for exactly the same agents.
std::string requirement_class(const task_record& task);

/// One ready_queue per requirement class. Dispatch looks at the head of each class (the best
/// task of the class by priority and age) in order of effective priority and assigns the first
/// one an agent can take: a class without an eligible agent is skipped as a whole, so a
/// thousand unroutable tasks cost one look, not a thousand. Not thread-safe (the scheduler's).
template <class T>
class dispatch_queue {
public:
  explicit dispatch_queue(timestamp_ms aging_ms) : aging_ms_(aging_ms) {}

  void push(const std::string& cls, priority level, timestamp_ms enqueued_at, T value) {
    auto i = classes_.find(cls);
    if (i == classes_.end())
      i = classes_.emplace(cls, ready_queue<T>{aging_ms_}).first;
    i->second.push(level, enqueued_at, std::move(value));
    ++by_level_[static_cast<size_t>(level)];
  }

  /// Offers class heads to `try_take(T&)` from the highest effective priority down; removes
  /// and returns true for the first one it takes.
  template <class F>
  bool take_one(timestamp_ms now, F&& try_take) {
    struct candidate {
      double key;
      timestamp_ms enqueued_at;
      int level;
      typename std::unordered_map<std::string, ready_queue<T>>::iterator cls;
    };
    std::vector<candidate> heads;
    heads.reserve(classes_.size());
    for (auto i = classes_.begin(); i != classes_.end(); ++i) {
      candidate c{0, 0, 0, i};
      if (auto* value = i->second.head(now, &c.key, &c.enqueued_at)) {
        c.level = static_cast<int>(level_of(*value));
        heads.push_back(c);
      }
    }
    std::sort(heads.begin(), heads.end(), [](const candidate& a, const candidate& b) {
      if (a.key != b.key)
        return a.key > b.key;
      if (a.level != b.level)
        return a.level > b.level; // strict priority among equals
      return a.enqueued_at < b.enqueued_at;
    });
    for (auto& c : heads) {
      auto& q = c.cls->second;
      priority level = priority::low;
      bool taken = q.take_first(now, 1, [&](T& value) {
        if (!try_take(value))
          return false;
        level = level_of(value);
        return true;
      });
      if (taken) {
        --by_level_[static_cast<size_t>(level)];
        if (q.empty())
          classes_.erase(c.cls);
        return true;
      }
    }
    return false;
  }

  /// Removes the first entry of class `cls` matching `pred`.
  template <class Pred>
  bool remove_if(const std::string& cls, Pred&& pred) {
    auto i = classes_.find(cls);
    if (i == classes_.end())
      return false;
    priority level = priority::low;
    bool removed = i->second.remove_if([&](const T& value) {
      if (!pred(value))
        return false;
      level = level_of(value);
      return true;
    });
    if (removed) {
      --by_level_[static_cast<size_t>(level)];
      if (i->second.empty())
        classes_.erase(i);
    }
    return removed;
  }

  size_t size(priority level) const noexcept { return by_level_[static_cast<size_t>(level)]; }
  bool empty() const noexcept { return classes_.empty(); }
  size_t classes() const noexcept { return classes_.size(); }

private:
  static priority level_of(const T& value) { return value.task->priority; }

  timestamp_ms aging_ms_;
  std::unordered_map<std::string, ready_queue<T>> classes_;
  std::array<size_t, priority_levels> by_level_{};
};

} // namespace hive::actors
