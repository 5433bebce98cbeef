// One group-commit writer: a queue and the thread that commits it (see write_behind.hpp).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "persistence/write_behind.hpp"

namespace hive::persistence::internal {

/// One lane of write_behind: a queue and the writer thread that merges whole enqueues into one
/// transaction at a time, answering `enqueue`s and holding `enqueue_durable`s through outages
/// exactly as write_behind.hpp describes. Thread-safe.
class commit_lane {
public:
  /// `db` must outlive this object. Starts the writer thread.
  commit_lane(store& db, size_t max_batch, size_t max_held);
  ~commit_lane(); ///< stops after committing what was enqueued

  commit_lane(const commit_lane&) = delete;
  commit_lane& operator=(const commit_lane&) = delete;

  /// Queues writes; `done` (optional) runs once they are committed or failed.
  void enqueue(write_batch batch, commit_callback done = {});

  /// Queues writes that are retried through store outages (see write_behind); `done`
  /// (optional) runs once they are committed or given up.
  void enqueue_durable(write_batch batch, commit_callback done = {});

  /// Blocks until everything enqueued before the call is committed, failed, or held for
  /// retry, and the callbacks due have returned. Must not be called from a callback.
  void flush();

  /// Commits what is queued (held writes get one last try), runs its callbacks and ends the
  /// thread. Further enqueues fail with shutting_down. Idempotent; must not be called from a
  /// callback.
  void stop();

  write_behind_stats stats() const;

  /// Installs (or, with an empty function, removes) the observer of every later transaction.
  /// Thread-safe; may be called while the writer runs.
  void set_commit_observer(commit_observer fn);

private:
  /// The writes of one `enqueue` call and who to tell.
  struct queued_write {
    write_batch batch;
    commit_callback done;
    bool durable = false;
  };

  void run();
  void push(queued_write w);
  /// Removes the next transaction's writes from the front of pending_. Needs mtx_ held.
  std::vector<queued_write> take_next();
  /// Applies `writes` in one transaction; on failure answers the non-durable ones and returns
  /// the durable ones to hold (empty when none is to be retried). Writer thread, no lock.
  std::vector<queued_write> commit(std::vector<queued_write> writes, bool last_try,
                                   const std::shared_ptr<const commit_observer>& observer);

  /// Recounts held_items_ and gives up the oldest held writes beyond max_held_; returns how
  /// many. Writer thread only.
  uint64_t trim_held();

  store& db_;
  size_t max_batch_;
  size_t max_held_;
  std::vector<queued_write> held_; ///< writer thread only: durable writes awaiting the store
  size_t held_items_ = 0;          ///< writer thread only
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<queued_write> pending_;
  uint64_t enqueued_seq_ = 0;  ///< enqueue calls so far
  uint64_t committed_seq_ = 0; ///< enqueue calls whose transaction finished
  bool stopping_ = false;
  write_behind_stats stats_;
  std::shared_ptr<const commit_observer> observer_; ///< guarded by mtx_
  std::thread thread_;
};

} // namespace hive::persistence::internal
