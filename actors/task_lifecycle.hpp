// The task state machine and retry policy: plain rules the task actor follows.
#pragma once

#include <cstdint>

#include "runtime/model.hpp"

namespace hive::actors {

/// True if a task may move from `from` to `to`. Terminal states only leave through an explicit
/// retry (failed, dead, cancelled -> queued); completed never changes again.
bool can_transition(task_status from, task_status to) noexcept;

/// The terminal status of a task whose latest attempt failed and will not be retried:
/// `dead` (dead-lettered) when it had retries and used them all, `failed` otherwise
/// (a permanent error, or a task that allowed no retries).
task_status final_failure_status(bool retryable, uint32_t max_retries) noexcept;

/// Exponential backoff: base * 2^(attempt-1), capped at max.
class retry_policy {
public:
  retry_policy(uint32_t base_ms, uint32_t max_ms) noexcept : base_ms_(base_ms), max_ms_(max_ms) {}

  /// Whether a task that has made `attempts` attempts (>= 1) may run again.
  static bool should_retry(bool retryable, uint32_t attempts, uint32_t max_retries) noexcept {
    return retryable && attempts <= max_retries;
  }

  /// Delay before attempt number `attempts + 1`, given `attempts` (>= 1) failed so far.
  uint32_t delay_ms(uint32_t attempts) const noexcept;

private:
  uint32_t base_ms_;
  uint32_t max_ms_;
};

} // namespace hive::actors
