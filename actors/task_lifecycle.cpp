// Task state transitions and backoff arithmetic.
#include "actors/task_lifecycle.hpp"

#include <algorithm>

namespace hive::actors {

bool can_transition(task_status from, task_status to) noexcept {
  using ts = task_status;
  switch (from) {
    case ts::pending:
      return to == ts::queued || to == ts::failed || to == ts::cancelled;
    case ts::queued:
      return to == ts::running || to == ts::cancelled || to == ts::failed;
    case ts::running:
      return to == ts::completed || to == ts::queued || to == ts::failed || to == ts::dead
             || to == ts::cancelled;
    case ts::failed:
    case ts::dead:
    case ts::cancelled:
      return to == ts::queued || to == ts::pending;
    case ts::completed:
      return false;
  }
  return false;
}

task_status final_failure_status(bool retryable, uint32_t max_retries) noexcept {
  return retryable && max_retries > 0 ? task_status::dead : task_status::failed;
}

uint32_t retry_policy::delay_ms(uint32_t attempts) const noexcept {
  uint64_t delay = base_ms_;
  for (uint32_t i = 1; i < attempts && delay < max_ms_; ++i)
    delay *= 2;
  return static_cast<uint32_t>(std::min<uint64_t>(delay, max_ms_));
}

} // namespace hive::actors
