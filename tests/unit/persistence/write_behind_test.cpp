// Group commit: grouping, ordering of callbacks and commits, flush, stop and failure reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "persistence/store.hpp"
#include "persistence/write_behind.hpp"
#include "temp_dir.hpp"

namespace hive::persistence {
namespace {

using namespace std::chrono_literals;

// A store that forwards to a real one but can hold `apply` at a gate, tells when an apply has
// started, and can fail batches chosen by a predicate.
class gated_store final : public store {
public:
  explicit gated_store(store& inner) : inner_(inner) {}

  void close_gate() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = false;
  }
  void open_gate() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }
  /// Waits until `n` applies have started.
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  void fail_when(std::function<bool(const write_batch&)> pred) { fail_when_ = std::move(pred); }
  /// While down, every apply and ping fails, as when the database server is gone.
  void set_down(bool down) { down_ = down; }
  /// Applies started so far.
  int applies() {
    std::lock_guard<std::mutex> guard{mtx_};
    return entered_;
  }

  std::string_view name() const noexcept override { return "gated"; }
  result<unit_t> apply(const write_batch& batch) override {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    if (down_)
      return make_error(errc::store_unavailable, "injected outage");
    if (fail_when_ && fail_when_(batch))
      return make_error(errc::store_unavailable, "injected failure");
    return inner_.apply(batch);
  }
  result<std::optional<task_record>> find_task(std::string_view id) override {
    return inner_.find_task(id);
  }
  result<std::optional<task_record>> find_task_by_key(std::string_view key) override {
    return inner_.find_task_by_key(key);
  }
  result<std::vector<task_record>> list_tasks(const task_filter& f) override {
    return inner_.list_tasks(f);
  }
  result<std::vector<task_event>> task_events(std::string_view id) override {
    return inner_.task_events(id);
  }
  result<std::vector<task_record>> unfinished_tasks() override { return inner_.unfinished_tasks(); }
  result<std::vector<std::pair<std::string, std::string>>> idempotency_keys() override {
    return inner_.idempotency_keys();
  }
  result<task_counts> count_tasks() override { return inner_.count_tasks(); }
  result<std::vector<agent_record>> load_agents() override { return inner_.load_agents(); }
  result<unit_t> put_object(const stored_object& o) override { return inner_.put_object(o); }
  result<bool> delete_object(std::string_view kind, std::string_view name) override {
    return inner_.delete_object(kind, name);
  }
  result<std::optional<stored_object>> find_object(std::string_view kind,
                                                   std::string_view name) override {
    return inner_.find_object(kind, name);
  }
  result<std::vector<stored_object>> list_objects(std::string_view kind) override {
    return inner_.list_objects(kind);
  }
  result<unit_t> ping() override {
    if (down_)
      return make_error(errc::store_unavailable, "injected outage");
    return inner_.ping();
  }

private:
  std::atomic<bool> down_{false};
  store& inner_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool open_ = true;
  int entered_ = 0;
  std::function<bool(const write_batch&)> fail_when_;
};

write_batch task_write(std::string id) {
  write_batch b;
  task_record t;
  t.id = id;
  t.type = "echo";
  b.tasks.push_back(t);
  task_event e;
  e.task_id = std::move(id);
  b.events.push_back(e);
  return b;
}

std::unique_ptr<store> open_or_die(const std::string& url) {
  auto db = open_store(url, "normal");
  if (!db)
    throw std::runtime_error(db.err().message);
  return std::move(*db);
}

size_t task_count(store& db) {
  task_filter all;
  all.limit = 1000000;
  auto rows = db.list_tasks(all);
  return rows ? rows->size() : 0;
}

// Records the outcome each callback saw, by slot.
class outcomes {
public:
  explicit outcomes(size_t n) : codes_(n) {}

  commit_callback slot(size_t i) {
    return [this, i](const result<unit_t>& r) {
      std::lock_guard<std::mutex> guard{mtx_};
      codes_[i] = r ? "ok" : std::string{to_string(r.err().code)};
    };
  }
  std::string at(size_t i) {
    std::lock_guard<std::mutex> guard{mtx_};
    return codes_[i];
  }
  size_t count(const std::string& code) {
    std::lock_guard<std::mutex> guard{mtx_};
    return static_cast<size_t>(std::count(codes_.begin(), codes_.end(), code));
  }

private:
  std::mutex mtx_;
  std::vector<std::string> codes_;
};

TEST(WriteBehindTest, CallbackRunsOnceTheDataIsReadable) {
  test::temp_dir dir;
  auto db = open_or_die("sqlite://" + (dir / "wb.db").string());
  write_behind writer{*db, 1000};
  constexpr int n = 200;
  std::atomic<int> readable{0};
  std::atomic<int> called{0};
  for (int i = 0; i < n; ++i) {
    auto id = "t" + std::to_string(i);
    writer.enqueue(task_write(id), [&, id](const result<unit_t>& r) {
      ++called;
      auto found = db->find_task(id);
      auto events = db->task_events(id);
      if (r && found && found->has_value() && events && events->size() == 1)
        ++readable;
    });
  }
  writer.flush();
  EXPECT_EQ(called.load(), n);
  EXPECT_EQ(readable.load(), n);
}

TEST(WriteBehindTest, ConcurrentEnqueuersShareTransactions) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 100000};
  constexpr int threads = 8;
  constexpr int per_thread = 50;
  outcomes seen{threads * per_thread + 1};

  // The first write holds the writer inside apply while the others queue up behind it.
  db.close_gate();
  writer.enqueue(task_write("first"), seen.slot(threads * per_thread));
  db.wait_entered(1);
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto slot = static_cast<size_t>(t * per_thread + i);
        writer.enqueue(task_write("p" + std::to_string(t) + "-" + std::to_string(i)),
                       seen.slot(slot));
      }
    });
  for (auto& p : producers)
    p.join();
  db.open_gate();
  writer.flush();

  EXPECT_EQ(seen.count("ok"), size_t{threads * per_thread + 1});
  EXPECT_EQ(task_count(db), size_t{threads * per_thread + 1});
  auto stats = writer.stats();
  EXPECT_EQ(stats.commits, 2u); // "first", then everything that queued behind it
  EXPECT_EQ(stats.failed_commits, 0u);
  EXPECT_EQ(stats.items, uint64_t{2 * (threads * per_thread + 1)});
  EXPECT_EQ(stats.largest_batch, uint64_t{2 * threads * per_thread});
}

TEST(WriteBehindTest, ManyThreadsAllGetCommitted) {
  test::temp_dir dir;
  auto db = open_or_die("sqlite://" + (dir / "wb.db").string());
  write_behind writer{*db, 512};
  constexpr int threads = 6;
  constexpr int per_thread = 300;
  outcomes seen{threads * per_thread};
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        writer.enqueue(task_write("p" + std::to_string(t) + "-" + std::to_string(i)),
                       seen.slot(static_cast<size_t>(t * per_thread + i)));
    });
  for (auto& p : producers)
    p.join();
  writer.flush();
  EXPECT_EQ(seen.count("ok"), size_t{threads * per_thread});
  EXPECT_EQ(task_count(*db), size_t{threads * per_thread});
  EXPECT_LE(writer.stats().largest_batch, 512u);
}

TEST(WriteBehindTest, MaxBatchSplitsAtEnqueueBoundaries) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 100}; // items: each task_write is 2
  db.close_gate();
  writer.enqueue(task_write("first"));
  db.wait_entered(1);
  for (int i = 0; i < 200; ++i)
    writer.enqueue(task_write("t" + std::to_string(i)));
  // One enqueue larger than max_batch still goes in whole, in a transaction of its own.
  write_batch big;
  for (int i = 0; i < 150; ++i)
    big.tasks.push_back(task_write("big" + std::to_string(i)).tasks.front());
  writer.enqueue(std::move(big));
  db.open_gate();
  writer.flush();

  auto stats = writer.stats();
  EXPECT_EQ(stats.commits, 1u + 4u + 1u); // first, 200 writes of 2 items by 100, big
  EXPECT_EQ(stats.largest_batch, 150u);
  EXPECT_EQ(task_count(db), 1u + 200u + 150u);
}

TEST(WriteBehindTest, FlushWaitsForEarlierWrites) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 1000};
  std::atomic<bool> committed{false};
  db.close_gate();
  writer.enqueue(task_write("a"), [&](const result<unit_t>& r) { committed = r.ok(); });
  db.wait_entered(1);

  auto flushed = std::async(std::launch::async, [&] { writer.flush(); });
  // Cannot be done: the only transaction is held at the gate.
  EXPECT_EQ(flushed.wait_for(0s), std::future_status::timeout);
  db.open_gate();
  flushed.get();
  EXPECT_TRUE(committed.load());
  auto found = db.find_task("a");
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->has_value());
}

TEST(WriteBehindTest, FlushWithNothingQueuedReturns) {
  auto mem = open_or_die("memory://");
  write_behind writer{*mem, 10};
  writer.flush();
  EXPECT_EQ(writer.stats().commits, 0u);
}

TEST(WriteBehindTest, StopDrainsTheQueueThenRefuses) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 1000};
  constexpr size_t n = 100;
  outcomes seen{n + 1};
  db.close_gate();
  writer.enqueue(task_write("first"), seen.slot(n));
  db.wait_entered(1);
  for (size_t i = 0; i < n; ++i)
    writer.enqueue(task_write("t" + std::to_string(i)), seen.slot(i));

  std::thread stopper{[&] { writer.stop(); }};
  // Wait (with a deadline) until stop() has begun, observed as a refused enqueue.
  std::atomic<bool> refused{false};
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!refused.load() && std::chrono::steady_clock::now() < deadline) {
    writer.enqueue(write_batch{}, [&](const result<unit_t>& r) {
      if (!r && r.err().code == errc::shutting_down)
        refused = true;
    });
    std::this_thread::yield();
  }
  ASSERT_TRUE(refused.load());
  db.open_gate();
  stopper.join();

  EXPECT_EQ(seen.count("ok"), n + 1);
  EXPECT_EQ(task_count(db), n + 1);

  // After stop, `done` runs at once on the caller's thread.
  std::string code;
  writer.enqueue(task_write("late"), [&](const result<unit_t>& r) {
    code = r ? "ok" : std::string{to_string(r.err().code)};
  });
  EXPECT_EQ(code, "shutting_down");
  auto late = db.find_task("late");
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->has_value());
  writer.stop(); // a second stop is harmless
}

TEST(WriteBehindTest, DestructorCommitsWhatWasQueued) {
  auto mem = open_or_die("memory://");
  {
    write_behind writer{*mem, 10};
    for (int i = 0; i < 50; ++i)
      writer.enqueue(task_write("t" + std::to_string(i)));
  }
  EXPECT_EQ(task_count(*mem), 50u);
}

TEST(WriteBehindTest, FailedCommitIsReportedToItsWritesOnly) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  db.fail_when([](const write_batch& b) {
    for (const auto& t : b.tasks)
      if (t.id == "poison")
        return true;
    return false;
  });
  write_behind writer{db, 1000};
  outcomes seen{4};
  db.close_gate();
  writer.enqueue(task_write("a"), seen.slot(0));
  db.wait_entered(1);
  writer.enqueue(task_write("poison"), seen.slot(1));
  writer.enqueue(task_write("c"), seen.slot(2)); // shares the poisoned transaction
  db.open_gate();
  writer.flush();
  writer.enqueue(task_write("d"), seen.slot(3));
  writer.flush();

  EXPECT_EQ(seen.at(0), "ok");
  EXPECT_EQ(seen.at(1), "store_unavailable");
  EXPECT_EQ(seen.at(2), "store_unavailable");
  EXPECT_EQ(seen.at(3), "ok");
  auto stats = writer.stats();
  EXPECT_EQ(stats.commits, 2u);
  EXPECT_EQ(stats.failed_commits, 1u);
  auto c = db.find_task("c");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_value());
  EXPECT_EQ(task_count(db), 2u);
}

TEST(WriteBehindTest, MergedWritesKeepTheirOrderForAgents) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 1000};
  agent_record x;
  x.id = "x";
  agent_record y;
  y.id = "y";
  write_batch seed;
  seed.agents = {y};
  db.close_gate();
  writer.enqueue(seed);
  db.wait_entered(1);

  // x: deleted, then created again -> exists. y: updated, then deleted -> gone.
  write_batch del_x;
  del_x.deleted_agents = {"x"};
  write_batch add_x;
  add_x.agents = {x};
  write_batch upd_y;
  y.name = "renamed";
  upd_y.agents = {y};
  write_batch del_y;
  del_y.deleted_agents = {"y"};
  for (auto* b : {&del_x, &add_x, &upd_y, &del_y})
    writer.enqueue(*b);
  db.open_gate();
  writer.flush();
  EXPECT_EQ(writer.stats().commits, 2u);

  auto agents = db.load_agents();
  ASSERT_TRUE(agents);
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ(agents->front().id, "x");
}

TEST(WriteBehindTest, CommitObserverSeesEveryTransaction) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  db.fail_when([](const write_batch& b) { return !b.tasks.empty() && b.tasks[0].id == "bad"; });
  write_behind writer{db, 1000};
  std::mutex mtx;
  std::vector<std::pair<size_t, bool>> seen;
  bool sane_times = true;
  writer.set_commit_observer([&](size_t items, double seconds, bool ok) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.emplace_back(items, ok);
    sane_times = sane_times && seconds >= 0 && seconds < 60;
  });
  db.close_gate();
  writer.enqueue(task_write("a"));
  db.wait_entered(1);
  writer.enqueue(task_write("b")); // b and c share the next transaction
  writer.enqueue(task_write("c"));
  db.open_gate();
  writer.flush();
  writer.enqueue(task_write("bad"));
  writer.flush();
  writer.set_commit_observer({}); // removed: later transactions go unobserved
  writer.enqueue(task_write("d"));
  writer.flush();

  std::lock_guard<std::mutex> guard{mtx};
  // Each task_write is one task row and one event row.
  EXPECT_EQ(seen, (std::vector<std::pair<size_t, bool>>{{2, true}, {4, true}, {2, false}}));
  EXPECT_TRUE(sane_times);
}

} // namespace
} // namespace hive::persistence

namespace hive::persistence {
namespace {

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds within = 5s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(WriteBehindTest, DurableWritesWaitOutAnOutageWhileOthersFailFast) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 1000};
  db.set_down(true);
  outcomes seen{3};
  writer.enqueue_durable(task_write("a"), seen.slot(0));
  writer.enqueue_durable(task_write("b"), seen.slot(1));
  writer.enqueue(task_write("c"), seen.slot(2)); // a submission: answered at once
  writer.flush(); // does not wait for held writes
  EXPECT_EQ(seen.at(2), "store_unavailable");
  EXPECT_EQ(seen.at(0), "") << "held, not failed";
  EXPECT_EQ(seen.at(1), "");
  EXPECT_TRUE(wait_for([&] { return writer.stats().held == 4; })) << writer.stats().held;

  db.set_down(false); // the database is back: held writes are written, in order
  ASSERT_TRUE(wait_for([&] { return seen.at(0) == "ok" && seen.at(1) == "ok"; }));
  EXPECT_EQ(writer.stats().held, 0u);
  EXPECT_TRUE(mem->find_task("a")->has_value());
  EXPECT_TRUE(mem->find_task("b")->has_value());
  EXPECT_FALSE(mem->find_task("c")->has_value());
  EXPECT_EQ(writer.stats().dropped, 0u);
}

TEST(WriteBehindTest, DurableWriteRefusedByAReachableStoreIsGivenUpAlone) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  db.fail_when([](const write_batch& b) {
    return std::any_of(b.tasks.begin(), b.tasks.end(),
                       [](const task_record& t) { return t.id == "poison"; });
  });
  write_behind writer{db, 1000};
  outcomes seen{3};
  db.close_gate();
  writer.enqueue(task_write("first"));
  db.wait_entered(1);
  writer.enqueue_durable(task_write("fine"), seen.slot(0));
  writer.enqueue_durable(task_write("poison"), seen.slot(1)); // shares the transaction
  writer.enqueue_durable(task_write("also-fine"), seen.slot(2));
  db.open_gate();
  writer.flush();
  ASSERT_TRUE(wait_for([&] { return seen.at(2) != ""; }));
  EXPECT_EQ(seen.at(0), "ok");
  EXPECT_EQ(seen.at(1), "store_unavailable");
  EXPECT_EQ(seen.at(2), "ok");
  EXPECT_EQ(writer.stats().dropped, 1u);
  EXPECT_EQ(writer.stats().held, 0u);
}

TEST(WriteBehindTest, HeldWritesAreBoundedOldestGivenUpFirst) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 1000, /*max_held=*/4}; // two writes of two rows
  db.set_down(true);
  outcomes seen{3};
  for (size_t i = 0; i < 3; ++i) {
    writer.enqueue_durable(task_write("t" + std::to_string(i)), seen.slot(i));
    writer.flush();
  }
  ASSERT_TRUE(wait_for([&] { return seen.at(0) != ""; }));
  EXPECT_EQ(seen.at(0), "store_unavailable");
  EXPECT_EQ(writer.stats().held, 4u);
  db.set_down(false);
  ASSERT_TRUE(wait_for([&] { return seen.at(1) == "ok" && seen.at(2) == "ok"; }));
  EXPECT_EQ(writer.stats().dropped, 1u);
}

TEST(WriteBehindTest, StopGivesHeldWritesOneLastTry) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  outcomes seen{1};
  {
    write_behind writer{db, 1000};
    db.set_down(true);
    writer.enqueue_durable(task_write("late"), seen.slot(0));
    ASSERT_TRUE(wait_for([&] { return writer.stats().held == 2; }));
    writer.stop(); // returns although the store is still down
  }
  EXPECT_EQ(seen.at(0), "store_unavailable");
}

} // namespace
} // namespace hive::persistence

namespace hive::persistence {
namespace {

// Several lanes: each task's changes stay in order (they share a lane), every write commits,
// agents go through lane 0, flush covers every lane.
TEST(WriteBehindTest, LanesKeepEachTasksChangesInOrder) {
  // SQLite: its apply may be called from several threads (the memory store's may not).
  test::temp_dir dir;
  auto mem = open_or_die("sqlite://" + (dir / "lanes.db").string());
  write_behind writer{*mem, 1000, write_behind::default_max_held, 3};
  EXPECT_EQ(writer.lanes(), 3u);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&writer, t] {
      for (int i = 0; i < 50; ++i) {
        auto id = "t" + std::to_string(t) + "-" + std::to_string(i);
        for (int version = 1; version <= 3; ++version) {
          auto b = task_write(id);
          b.tasks.front().attempts = static_cast<uint32_t>(version);
          writer.enqueue_durable(std::move(b));
        }
      }
    });
  for (auto& th : threads)
    th.join();
  write_batch agent;
  agent.agents.push_back(agent_record{});
  agent.agents.back().id = "a1";
  writer.enqueue(std::move(agent));
  writer.flush();
  EXPECT_EQ(task_count(*mem), 200u);
  task_filter all;
  all.limit = 1000;
  auto stored = mem->list_tasks(all);
  ASSERT_TRUE(stored);
  for (const auto& t : *stored)
    EXPECT_EQ(t.attempts, 3u) << t.id << ": the last version is the one stored";
  EXPECT_EQ(mem->load_agents()->size(), 1u);
  auto stats = writer.stats();
  EXPECT_EQ(stats.items, 200u * 3 * 2 + 1);
  EXPECT_EQ(stats.failed_commits, 0u);
}

} // namespace
} // namespace hive::persistence

namespace hive::persistence {
namespace {

// During an outage, between retries, state changes join the held ones without touching the
// store; a submission is always tried, so it learns at once whether the store is back.
TEST(WriteBehindTest, BetweenRetriesStateChangesCostNoStoreCalls) {
  auto mem = open_or_die("memory://");
  gated_store db{*mem};
  write_behind writer{db, 1000};
  db.set_down(true);
  writer.enqueue_durable(task_write("held"));
  ASSERT_TRUE(wait_for([&] { return writer.stats().held == 2; }));
  auto applies = db.applies();
  writer.enqueue_durable(task_write("changed"));
  writer.flush();
  EXPECT_EQ(db.applies(), applies) << "joined the held writes without a store call";
  EXPECT_EQ(writer.stats().held, 4u);
  outcomes seen{2};
  writer.enqueue(task_write("refused"), seen.slot(0));
  writer.flush();
  EXPECT_EQ(seen.at(0), "store_unavailable");
  EXPECT_GT(db.applies(), applies) << "a submission is tried";
  // The store is back: the next submission goes through at once, with the held writes ahead.
  db.set_down(false);
  writer.enqueue(task_write("accepted"), seen.slot(1));
  writer.flush();
  EXPECT_EQ(seen.at(1), "ok");
  EXPECT_EQ(writer.stats().held, 0u);
  EXPECT_TRUE(mem->find_task("held")->has_value());
  EXPECT_TRUE(mem->find_task("changed")->has_value());
  EXPECT_FALSE(mem->find_task("refused")->has_value());
}

} // namespace
} // namespace hive::persistence
