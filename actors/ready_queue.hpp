// Tasks waiting for an agent: strict priority levels, FIFO within a level, aging against starvation.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <utility>

#include "runtime/model.hpp"

namespace hive::actors {

/// A priority queue of `T` (the scheduler stores task handles). Order: highest effective
/// priority first, where effective = level + waited / aging_ms; among equals, higher level,
/// then older. Aging means a low-priority task that waited long enough overtakes newer
/// high-priority ones, so nothing starves. Not thread-safe (owned by the scheduler actor).
template <class T>
class ready_queue {
public:
  explicit ready_queue(timestamp_ms aging_ms) : aging_ms_(aging_ms > 0 ? aging_ms : 1) {}

  void push(priority level, timestamp_ms enqueued_at, T value) {
    levels_[static_cast<size_t>(level)].push_back(entry{enqueued_at, std::move(value)});
    ++size_;
  }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t size(priority level) const noexcept { return levels_[static_cast<size_t>(level)].size(); }

  /// Visits at most `scan_limit` entries in order; removes and returns true for the first one
  /// for which `accept(T&)` returns true. Entries that are not accepted keep their place.
  template <class F>
  bool take_first(timestamp_ms now, size_t scan_limit, F&& accept) {
    std::array<size_t, priority_levels> cursor{};
    for (size_t visited = 0; visited < scan_limit; ++visited) {
      int best = -1;
      double best_key = 0;
      for (int lvl = priority_levels - 1; lvl >= 0; --lvl) {
        auto& q = levels_[lvl];
        if (cursor[lvl] >= q.size())
          continue;
        auto key = effective(lvl, q[cursor[lvl]].enqueued_at, now);
        if (best < 0 || key > best_key) { // strict: ties go to the higher level
          best = lvl;
          best_key = key;
        }
      }
      if (best < 0)
        return false;
      auto& q = levels_[best];
      auto& e = q[cursor[best]];
      if (accept(e.value)) {
        q.erase(q.begin() + static_cast<std::ptrdiff_t>(cursor[best]));
        --size_;
        return true;
      }
      ++cursor[best];
    }
    return false;
  }

  /// The entry take_first would visit first, with its effective priority; nullptr if empty.
  T* head(timestamp_ms now, double* key = nullptr, timestamp_ms* enqueued_at = nullptr) {
    int best = -1;
    double best_key = 0;
    for (int lvl = priority_levels - 1; lvl >= 0; --lvl) {
      auto& q = levels_[lvl];
      if (q.empty())
        continue;
      auto k = effective(lvl, q.front().enqueued_at, now);
      if (best < 0 || k > best_key) {
        best = lvl;
        best_key = k;
      }
    }
    if (best < 0)
      return nullptr;
    if (key != nullptr)
      *key = best_key;
    if (enqueued_at != nullptr)
      *enqueued_at = levels_[best].front().enqueued_at;
    return &levels_[best].front().value;
  }

  /// Removes the first entry matching `pred`; returns whether one was found.
  template <class Pred>
  bool remove_if(Pred&& pred) {
    for (auto& q : levels_) {
      for (auto i = q.begin(); i != q.end(); ++i) {
        if (pred(i->value)) {
          q.erase(i);
          --size_;
          return true;
        }
      }
    }
    return false;
  }

  /// Effective priority of an entry of level `lvl` queued at `enqueued_at`.
  double effective(int lvl, timestamp_ms enqueued_at, timestamp_ms now) const noexcept {
    auto waited = now > enqueued_at ? now - enqueued_at : 0;
    return lvl + static_cast<double>(waited / aging_ms_);
  }

private:
  struct entry {
    timestamp_ms enqueued_at;
    T value;
  };
  timestamp_ms aging_ms_;
  std::array<std::deque<entry>, priority_levels> levels_;
  size_t size_ = 0;
};

} // namespace hive::actors
