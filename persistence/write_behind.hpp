// Group commit: many writers enqueue, one thread commits them together in one transaction.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "persistence/store.hpp"

namespace hive::persistence {

/// Called on the writer thread after the transaction holding the write committed (ok) or
/// failed (the error). Must not block.
using commit_callback = std::function<void(const result<unit_t>&)>;

/// Told about every transaction on the writer thread, after it committed or failed: how many
/// items (rows) it held, how long applying it took, and whether it committed. Must not block
/// (it delays the next transaction). For metrics; persistence knows nothing of how they are kept.
using commit_observer = std::function<void(size_t items, double seconds, bool ok)>;

struct write_behind_stats {
  uint64_t commits = 0;
  uint64_t failed_commits = 0;
  uint64_t items = 0;
  uint64_t largest_batch = 0;
  uint64_t held = 0;    ///< durable writes waiting for the store to come back (now)
  uint64_t dropped = 0; ///< durable writes given up (store reachable but refusing, or overflow)
};

/// Owns the writer thread. Thread-safe; `enqueue` never does I/O. Writes that arrive while a
/// transaction is being committed go into the next one, so the batch grows with the load.
/// The writes of one `enqueue` always share a transaction; a transaction takes whole enqueues
/// in order, as many as fit in `max_batch` items (at least one, however large).
///
/// Two kinds of writes: `enqueue` is answered once, committed or failed (a submission answers
/// 503 when its transaction fails). `enqueue_durable` is for changes nobody waits on (task state
/// changes, agent counters): when its transaction fails because the store is unreachable
/// (`store::ping` fails too), it is held and retried, with backoff, ahead of later writes, until
/// the store is back; only when the store answers but refuses the write, when more than
/// `max_held` items are held, or at stop is it given up and reported to its callback.
class write_behind {
public:
  /// Durable items held during an outage at most; the oldest are given up beyond it.
  static constexpr size_t default_max_held = 200'000;

  /// `db` must outlive this object. Starts the writer thread.
  write_behind(store& db, size_t max_batch, size_t max_held = default_max_held);
  ~write_behind(); ///< stops after committing what was enqueued

  write_behind(const write_behind&) = delete;
  write_behind& operator=(const write_behind&) = delete;

  /// Queues writes; `done` (optional) runs once they are committed or failed.
  void enqueue(write_batch batch, commit_callback done = {});

  /// Queues writes that are retried through store outages (see the class comment); `done`
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

} // namespace hive::persistence
