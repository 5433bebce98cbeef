// Group commit: many writers enqueue, one thread commits them together in one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

namespace internal {
class commit_lane;
} // namespace internal

/// Group commit. Writers enqueue from any thread; `enqueue` never does I/O. Each lane has a
/// writer thread that takes whole enqueues in order, as many as fit in `max_batch` items (at
/// least one, however large), and applies them in one transaction; writes that arrive while a
/// transaction commits go into the next one, so the batch grows with the load. The writes of
/// one `enqueue` always share a transaction.
///
/// Lanes: a store that takes concurrent transactions (PostgreSQL) gets several, each with its
/// own transaction in flight. A batch of task rows goes to the lane of its first task; batches
/// with agent rows go to lane 0. The rule for writers: a batch that holds several tasks must be
/// the only write of those tasks until it has committed (a submission batch: the tasks' actors
/// start after the commit); every other write holds one task, and then all of that task's
/// changes follow each other through its lane, in order.
///
/// Two kinds of writes: `enqueue` is answered once, committed or failed (a submission answers
/// 503 when its transaction fails). `enqueue_durable` is for changes nobody waits on (task state
/// changes, agent counters): when its transaction fails because the store is unreachable
/// (`store::ping` fails too), it is held and retried, with backoff, ahead of later writes, until
/// the store is back; only when the store answers but refuses the write, when more than
/// `max_held` items are held in its lane, or at stop is it given up and reported to its callback.
class write_behind {
public:
  /// Durable items held during an outage, per lane, at most; the oldest are given up beyond it.
  static constexpr size_t default_max_held = 200'000;

  /// `db` must outlive this object. Starts one writer thread per lane.
  write_behind(store& db, size_t max_batch, size_t max_held = default_max_held,
               size_t lanes = 1);
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
  /// threads. Further enqueues fail with shutting_down. Idempotent; must not be called from a
  /// callback.
  void stop();

  /// Summed over the lanes (largest_batch: the largest of any).
  write_behind_stats stats() const;
  size_t lanes() const noexcept { return lanes_.size(); }

  /// Installs (or, with an empty function, removes) the observer of every later transaction.
  /// Thread-safe; may be called while the writers run. With several lanes it is called from
  /// each lane's thread.
  void set_commit_observer(commit_observer fn);

private:
  size_t lane_for(const write_batch& batch) const;

  std::vector<std::unique_ptr<internal::commit_lane>> lanes_;
};

} // namespace hive::persistence
