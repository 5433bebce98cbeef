// A pool of PostgreSQL connections (libpqxx): bounded, with a wait limit, a statement timeout on
// every session, recycling of old connections and replacement of broken ones.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection> // pqxx::connection is an alias in libpqxx 6: no forward declaration

#include "runtime/error.hpp"

namespace hive::persistence::internal {

struct pg_pool_options {
  std::string url; ///< a libpq connection URI (postgresql://...)
  uint32_t max_connections = 20;
  uint32_t min_connections = 5;
  uint32_t connection_timeout_secs = 30;
  uint32_t statement_timeout_secs = 60;
  uint32_t recycle_secs = 3600;
};

/// One open session and what this program set up on it.
struct pg_connection {
  std::unique_ptr<pqxx::connection> conn;
  std::chrono::steady_clock::time_point opened;
  bool writer_ready = false; ///< the writer's prepared statements and temp table exist
  ~pg_connection();
};

class pg_pool;

/// A borrowed connection; goes back to the pool when destroyed. Call `broken()` when the
/// connection failed (it is then closed instead of reused).
class pg_lease {
public:
  pg_lease(pg_pool* pool, std::unique_ptr<pg_connection> c) : pool_(pool), c_(std::move(c)) {}
  pg_lease(pg_lease&&) noexcept = default;
  pg_lease& operator=(pg_lease&&) = delete;
  ~pg_lease();

  pqxx::connection& conn() noexcept { return *c_->conn; }
  pg_connection& session() noexcept { return *c_; }
  void broken() noexcept { broken_ = true; }

private:
  pg_pool* pool_;
  std::unique_ptr<pg_connection> c_;
  bool broken_ = false;
};

/// Thread-safe. Never hands out more than max_connections at once; `acquire` waits up to
/// connection_timeout_secs for one to come back.
class pg_pool {
public:
  explicit pg_pool(pg_pool_options opts);
  ~pg_pool();

  pg_pool(const pg_pool&) = delete;
  pg_pool& operator=(const pg_pool&) = delete;

  /// Opens min_connections (at least one) so that a bad URL or a down server fails at start.
  result<unit_t> warm_up();

  /// An idle connection, a new one, or (at the limit) the first one handed back in time.
  result<pg_lease> acquire();

  /// Closes every idle connection (after one was found broken, the others likely are too:
  /// the server restarted). Lent ones are judged when they come back.
  void discard_idle();

  struct stats {
    size_t open = 0; ///< connections that exist (idle or lent)
    size_t idle = 0;
  };
  stats counts() const;

  const pg_pool_options& options() const noexcept { return opts_; }

  /// The URL with its password replaced, for messages.
  static std::string redact(const std::string& url);

private:
  friend class pg_lease;
  result<std::unique_ptr<pg_connection>> connect();
  void give_back(std::unique_ptr<pg_connection> c, bool broken);

  pg_pool_options opts_;
  mutable std::mutex mtx_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pg_connection>> idle_; ///< guarded by mtx_, newest last
  size_t open_ = 0;                                   ///< guarded by mtx_
};

/// Turns a libpqxx exception into the store's error (store_unavailable), naming what failed.
/// `broken` is set when the connection itself is unusable.
error pg_failure(const std::exception& e, std::string_view what, bool& broken);

} // namespace hive::persistence::internal
