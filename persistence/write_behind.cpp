// The group-commit writer thread: queued writes are merged and applied in one transaction.
#include "persistence/write_behind.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <iterator>

namespace hive::persistence {
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

write_behind::write_behind(store& db, size_t max_batch) : db_(db), max_batch_(max_batch) {
  thread_ = std::thread{[this] { run(); }};
}

write_behind::~write_behind() {
  stop();
}

void write_behind::enqueue(write_batch batch, commit_callback done) {
  bool accepted = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopping_) {
      pending_.push_back(queued_write{std::move(batch), std::move(done)});
      ++enqueued_seq_;
      accepted = true;
    }
  }
  if (accepted)
    wake_.notify_one();
  else if (done)
    done(make_error(errc::shutting_down, "the store writer is stopping"));
}

void write_behind::flush() {
  std::unique_lock<std::mutex> lock{mtx_};
  assert(std::this_thread::get_id() != thread_.get_id());
  auto target = enqueued_seq_;
  drained_.wait(lock, [&] { return committed_seq_ >= target; });
}

void write_behind::stop() {
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

write_behind_stats write_behind::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stats_;
}

void write_behind::set_commit_observer(commit_observer fn) {
  std::shared_ptr<const commit_observer> next;
  if (fn)
    next = std::make_shared<const commit_observer>(std::move(fn));
  std::lock_guard<std::mutex> guard{mtx_};
  observer_ = std::move(next);
}

std::vector<write_behind::queued_write> write_behind::take_next() {
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

void write_behind::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty())
      return; // stopping, and everything is committed
    auto writes = take_next();
    auto observer = observer_;
    lock.unlock();

    write_batch merged = std::move(writes.front().batch);
    for (size_t i = 1; i < writes.size(); ++i)
      append(merged, writes[i].batch);
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
    for (auto& write : writes)
      if (write.done)
        write.done(outcome);
    // After the callbacks, so that observing never delays an answer.
    if (observer && items > 0)
      (*observer)(items, took, static_cast<bool>(outcome));

    lock.lock();
    committed_seq_ += writes.size();
    if (items > 0) {
      ++(outcome ? stats_.commits : stats_.failed_commits);
      stats_.items += items;
      stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, items);
    }
    drained_.notify_all();
  }
}

} // namespace hive::persistence
