// A fixed pool of threads for blocking work (store reads, long executors) kept off actor threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hive::runtime {

/// Runs posted jobs on `threads` threads, in FIFO order. Thread-safe. The destructor finishes
/// the jobs already posted, then joins.
class thread_pool {
public:
  explicit thread_pool(size_t threads, std::string name = "pool");
  ~thread_pool();

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Queues `job`; returns false (and drops it) after stop().
  bool post(std::function<void()> job);

  /// Jobs waiting to start.
  size_t backlog() const;

  /// Finishes queued jobs and joins the threads. Idempotent.
  void stop();

private:
  void run();

  mutable std::mutex mtx_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace hive::runtime
