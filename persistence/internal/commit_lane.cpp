// The group-commit writer thread: queued writes are merged and applied in one transaction.
#include "persistence/internal/commit_lane.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <iterator>
#include <string>

#include "runtime/log.hpp"

namespace hive::persistence::internal {
namespace {

template <class T>
void move_append(std::vector<T>& into, std::vector<T>& from) {
  into.insert(into.end(), std::make_move_iterator(from.begin()),
              std::make_move_iterator(from.end()));
}

// Appends a later batch to an earlier one so that applying the result (upserts before
// deletes) leaves the same state as applying the two in turn.
void append(write_batch& into, write_batch& from) {
  move_append(into.tasks, from.tasks);
  move_append(into.events, from.events);
  for (auto& agent : from.agents) {
    // A re-created agent must survive an earlier delete in the merged batch.
    auto& gone = into.deleted_agents;
    gone.erase(std::remove(gone.begin(), gone.end(), agent.id), gone.end());
    into.agents.push_back(std::move(agent));
  }
  move_append(into.deleted_agents, from.deleted_agents);
}

} // namespace

commit_lane::commit_lane(store& db, size_t max_batch, size_t max_held)
  : db_(db), max_batch_(max_batch), max_held_(max_held) {
  thread_ = std::thread{[this] { run(); }};
}

commit_lane::~commit_lane() {
  stop();
}

void commit_lane::enqueue(write_batch batch, commit_callback done) {
  push(queued_write{std::move(batch), std::move(done), false});
}

void commit_lane::enqueue_durable(write_batch batch, commit_callback done) {
  push(queued_write{std::move(batch), std::move(done), true});
}

void commit_lane::push(queued_write w) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopping_) {
      pending_.push_back(std::move(w));
      ++enqueued_seq_;
      wake_.notify_one();
      return;
    }
  }
  if (w.done)
    w.done(make_error(errc::shutting_down, "the store writer is stopping"));
}

void commit_lane::flush() {
  std::unique_lock<std::mutex> lock{mtx_};
  assert(std::this_thread::get_id() != thread_.get_id());
  auto target = enqueued_seq_;
  drained_.wait(lock, [&] { return committed_seq_ >= target; });
}

void commit_lane::stop() {
  std::thread writer;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    assert(std::this_thread::get_id() != thread_.get_id());
    stopping_ = true;
    writer = std::move(thread_);
  }
  wake_.notify_all();
  if (writer.joinable())
    writer.join();
  else
    flush(); // another caller is joining; return only once the queue is drained
}

write_behind_stats commit_lane::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stats_;
}

void commit_lane::set_commit_observer(commit_observer fn) {
  std::shared_ptr<const commit_observer> next;
  if (fn)
    next = std::make_shared<const commit_observer>(std::move(fn));
  std::lock_guard<std::mutex> guard{mtx_};
  observer_ = std::move(next);
}

std::vector<commit_lane::queued_write> commit_lane::take_next() {
  std::vector<queued_write> taken;
  size_t items = 0;
  while (!pending_.empty()) {
    auto next = pending_.front().batch.size();
    if (!taken.empty() && items + next > max_batch_)
      break;
    items += next;
    taken.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  return taken;
}

namespace {

/// Where one write's rows sit in the merged batch (appending only ever adds at the end).
struct rows_span {
  size_t tasks_from, tasks_to, events_from, events_to, agents_from, agents_to;
};

template <class T>
std::vector<T> take_range(std::vector<T>& from, size_t first, size_t last) {
  return {std::make_move_iterator(from.begin() + static_cast<std::ptrdiff_t>(first)),
          std::make_move_iterator(from.begin() + static_cast<std::ptrdiff_t>(last))};
}

} // namespace

std::vector<commit_lane::queued_write>
commit_lane::commit(std::vector<queued_write> writes, bool last_try,
                     const std::shared_ptr<const commit_observer>& observer) {
  // Merge by moving; remember each write's rows so that durable ones can be taken back out
  // if the transaction fails (durable writes carry no deletions; those are copied if any).
  write_batch merged;
  std::vector<rows_span> spans;
  std::vector<std::vector<std::string>> deletions(writes.size());
  spans.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    auto& b = writes[i].batch;
    if (writes[i].durable)
      deletions[i] = b.deleted_agents;
    rows_span sp{merged.tasks.size(), 0, merged.events.size(), 0, merged.agents.size(), 0};
    if (i == 0)
      merged = std::move(b);
    else
      append(merged, b);
    sp.tasks_to = merged.tasks.size();
    sp.events_to = merged.events.size();
    sp.agents_to = merged.agents.size();
    spans.push_back(sp);
  }
  auto items = merged.size();
  result<unit_t> outcome = unit;
  double took = 0;
  if (items > 0) {
    // Timed only when someone observes: with metrics off the writer does what it did before.
    using clock = std::chrono::steady_clock;
    auto began = observer ? clock::now() : clock::time_point{};
    outcome = db_.apply(merged);
    if (observer)
      took = std::chrono::duration<double>(clock::now() - began).count();
  }
  auto finish = [&] {
    // After the callbacks, so that observing never delays an answer.
    if (observer && items > 0)
      (*observer)(items, took, static_cast<bool>(outcome));
    std::lock_guard<std::mutex> guard{mtx_};
    if (items > 0) {
      ++(outcome ? stats_.commits : stats_.failed_commits);
      stats_.items += items;
      stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, items);
    }
  };
  if (outcome) {
    for (auto& w : writes)
      if (w.done)
        w.done(outcome);
    finish();
    return {};
  }
  // Failed. An unreachable store (ping fails too) is an outage: durable writes wait for it.
  // A reachable one refused this transaction: durable writes get one of their own, in case
  // another write was the cause.
  bool any_durable = std::any_of(writes.begin(), writes.end(),
                                 [](const queued_write& w) { return w.durable; });
  bool outage = any_durable && !last_try && !db_.ping();
  std::vector<queued_write> keep;
  std::vector<queued_write> alone;
  uint64_t given_up = 0;
  for (size_t i = 0; i < writes.size(); ++i) {
    auto& w = writes[i];
    if (!w.durable || last_try) {
      given_up += w.durable ? 1 : 0;
      if (w.done)
        w.done(outcome);
      continue;
    }
    const auto& sp = spans[i];
    w.batch.tasks = take_range(merged.tasks, sp.tasks_from, sp.tasks_to);
    w.batch.events = take_range(merged.events, sp.events_from, sp.events_to);
    w.batch.agents = take_range(merged.agents, sp.agents_from, sp.agents_to);
    w.batch.deleted_agents = std::move(deletions[i]);
    (outage ? keep : alone).push_back(std::move(w));
  }
  if (given_up > 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    stats_.dropped += given_up;
  }
  finish();
  if (alone.size() == 1 && writes.size() == 1) {
    // Alone in its transaction and refused by a reachable store: given up.
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++stats_.dropped;
    }
    if (alone.front().done)
      alone.front().done(outcome);
  } else {
    // Find the culprit: each durable write gets one transaction of its own (and is held after
    // all if the store turns out to be gone by then).
    for (auto& w : alone) {
      std::vector<queued_write> one;
      one.push_back(std::move(w));
      for (auto& back : commit(std::move(one), false, observer))
        keep.push_back(std::move(back));
    }
  }
  return keep;
}

uint64_t commit_lane::trim_held() {
  held_items_ = 0;
  for (const auto& w : held_)
    held_items_ += w.batch.size();
  // Bounded: past max_held items the oldest held writes are given up.
  size_t drop_count = 0;
  while (held_items_ > max_held_ && drop_count < held_.size()) {
    held_items_ -= held_[drop_count].batch.size();
    ++drop_count;
  }
  for (size_t i = 0; i < drop_count; ++i)
    if (held_[i].done)
      held_[i].done(make_error(errc::store_unavailable,
                               "the store stayed unreachable and more than "
                                 + std::to_string(max_held_)
                                 + " changes waited for it; the oldest were given up"));
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(drop_count));
  return drop_count;
}

void commit_lane::run() {
  using clock = std::chrono::steady_clock;
  std::chrono::milliseconds backoff{0};
  clock::time_point retry_at{}; // while writes are held: no store I/O before this
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    if (held_.empty())
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    else
      wake_.wait_until(lock, retry_at, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && held_.empty())
      return; // stopping, and everything is committed
    bool last_try = stopping_;
    auto writes = take_next();
    auto taken = writes.size();
    auto observer = observer_;
    lock.unlock();

    auto was_held = held_items_;
    uint64_t dropped = 0;
    bool only_durable = std::all_of(writes.begin(), writes.end(),
                                    [](const queued_write& w) { return w.durable; });
    if (!held_.empty() && !last_try && only_durable && clock::now() < retry_at) {
      // The store was unreachable a moment ago and the next try is not due: durable writes
      // join the held ones (in order) without touching the store. A write someone waits for
      // (a submission) is always tried: it finds out at once whether the store is back.
      for (auto& w : writes)
        held_.push_back(std::move(w));
      dropped = trim_held();
    } else {
      // Held writes are older than anything pending: they go first.
      std::vector<queued_write> all = std::move(held_);
      held_.clear();
      for (auto& w : writes)
        all.push_back(std::move(w));
      held_ = commit(std::move(all), last_try, observer);
      dropped = trim_held();
      if (held_.empty()) {
        if (was_held > 0)
          runtime::log_info("store", "the store is back; " + std::to_string(was_held)
                                       + " held changes were written");
        backoff = std::chrono::milliseconds{0};
      } else {
        if (was_held == 0)
          runtime::log_warn("store", "the store is unreachable; holding "
                                       + std::to_string(held_items_)
                                       + " changes and retrying until it is back");
        backoff = std::min(std::chrono::milliseconds{2000},
                           std::max(std::chrono::milliseconds{200}, backoff * 2));
        retry_at = clock::now() + backoff;
      }
    }

    lock.lock();
    committed_seq_ += taken; // held writes count as handled: flush() does not wait for them
    stats_.held = held_items_;
    stats_.dropped += dropped;
    drained_.notify_all();
  }
}

} // namespace hive::persistence::internal
