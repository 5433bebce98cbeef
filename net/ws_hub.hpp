// The WebSocket side of the API: live events from the core to every connected client.
#pragma once

#include <functional>

#include "runtime/cluster_view.hpp"

#include <cstdint>
#include <memory>

namespace hive::actors {
class engine;
} // namespace hive::actors

namespace hive::net {

struct ws_options {
  uint32_t max_connections = 500;
  uint64_t max_message_bytes = 64 * 1024; ///< largest frame a client may send
  uint32_t send_queue_max = 1024;         ///< queued outgoing messages per connection
  uint32_t drop_after_missed = 10000;     ///< events a lagging client may miss before it is dropped
  uint32_t idle_timeout_secs = 30;        ///< no traffic and no pong for this long: closed
};

struct ws_stats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0; ///< over max_connections
  uint64_t events_sent = 0;
  uint64_t events_dropped = 0; ///< not queued for a lagging client
  uint64_t clients_dropped = 0; ///< closed for staying behind
};

/// Subscribes to the engine's event bus and fans every event out to the WebSocket sessions
/// whose filters match. Created by app/, handed to the HTTP server (which upgrades `GET /ws`).
/// Thread-safe. The engine must outlive the hub.
class ws_hub : public std::enable_shared_from_this<ws_hub> {
public:
  static std::shared_ptr<ws_hub> create(actors::engine& core, ws_options opts);
  ~ws_hub();

  /// Stops the fan-out and closes every session. Idempotent.
  void stop();

  ws_stats stats() const;

  /// Cluster mode: `fn` gets every local event, encoded, for the other nodes (on the
  /// publisher's thread; must not block) while `wanted()` says another node listens. May be
  /// set while events flow.
  void set_forwarder(std::function<void(runtime::cluster_event)> fn,
                     std::function<bool()> wanted);
  /// An event of another node: offered to the sessions that want it. Any thread.
  void deliver_remote(const runtime::cluster_event& ev);

  struct impl;
  impl& internals() noexcept { return *impl_; } ///< for net/internal/ws_session only

private:
  ws_hub() = default;
  std::unique_ptr<impl> impl_;
};

} // namespace hive::net
