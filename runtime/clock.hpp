// Time as an injectable dependency, so timeouts, backoff and aging can be tested with a fake clock.
#pragma once

#include <atomic>
#include <string>

#include "runtime/model.hpp"

namespace hive::runtime {

/// Source of wall-clock time in milliseconds. Implementations are thread-safe.
class clock {
public:
  virtual ~clock() = default;
  virtual timestamp_ms now() const noexcept = 0;
};

/// The real clock (std::chrono::system_clock).
class system_clock final : public clock {
public:
  timestamp_ms now() const noexcept override;
  /// A process-wide instance.
  static const system_clock& instance() noexcept;
};

/// A clock that only moves when told to (tests).
class manual_clock final : public clock {
public:
  explicit manual_clock(timestamp_ms start = 1'700'000'000'000) : now_(start) {}
  timestamp_ms now() const noexcept override { return now_.load(); }
  void advance(timestamp_ms by) noexcept { now_ += by; }
  void set(timestamp_ms to) noexcept { now_ = to; }

private:
  std::atomic<timestamp_ms> now_;
};

/// ISO 8601 UTC with milliseconds, e.g. "2026-11-27T17:00:00.123Z".
std::string format_utc(timestamp_ms at);

} // namespace hive::runtime
