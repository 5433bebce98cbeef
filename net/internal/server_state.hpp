// State shared by the listener and the sessions of one http_server (Beast-side, net/ only).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "net/http_server.hpp"

namespace hive::net::internal {

class http_session;

/// Held by shared_ptr by the server, the listener and every session, so that a session kept
/// alive by a late responder never outlives the io_context its socket belongs to.
struct server_state {
  server_state(const http_server_options& options, http_handler h);

  boost::asio::io_context ioc; ///< first member: destroyed last
  const http_server_options opts;
  http_handler handler; ///< called on I/O threads only; cleared by stop() after joining them

  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> requests{0};

  std::atomic<bool> draining{false}; ///< stop_accepting() was called: no more keep-alive
  std::atomic<bool> stopping{false}; ///< stop() was called: late responses are dropped

  /// Registers a session so that stop() can reach it. Returns its registry id, or 0 when the
  /// server is stopping (the caller then drops the session). Any thread.
  uint64_t add_session(const std::shared_ptr<http_session>& session);

  /// Called from the session's destructor. Any thread.
  void remove_session(uint64_t id) noexcept;

  /// The sessions still alive; with `stop`, also sets `stopping` under the registry lock, so
  /// that no session registers after the snapshot.
  std::vector<std::shared_ptr<http_session>> live_sessions(bool stop);

private:
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::weak_ptr<http_session>> sessions_;
};

} // namespace hive::net::internal
