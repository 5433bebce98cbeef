// A whole Hive server in one object: store, actor system, engine and HTTP frontend, wired.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "runtime/config.hpp"
#include "runtime/error.hpp"

namespace hive::actors {
class engine;
class executor_registry;
} // namespace hive::actors

namespace hive::app {

/// Used by `hive serve` and by the integration tests (in-process, port 0).
class server {
public:
  /// Opens the store, recovers, starts the actors and listens. Errors name what failed.
  /// `extra_executors` (tests) may register more executors after the built-in ones.
  static result<std::unique_ptr<server>>
  start(const runtime::config& cfg,
        void (*extra_executors)(actors::executor_registry&) = nullptr);

  ~server(); ///< stop(), if not done yet

  uint16_t port() const noexcept;
  actors::engine& engine() noexcept;

  /// Graceful stop: stop accepting, let running tasks finish (up to the configured grace),
  /// persist and flush, close. Idempotent.
  void stop();

  struct impl;

private:
  explicit server(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace hive::app
