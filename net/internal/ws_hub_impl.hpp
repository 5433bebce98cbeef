// The WebSocket hub's shared state: options, counters and the registry of sessions (net/ only).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/engine.hpp"
#include "actors/event_bus.hpp"
#include "net/internal/ws_session.hpp"
#include "net/ws_hub.hpp"

namespace hive::net {

namespace internal {
class ws_session;
} // namespace internal

struct ws_hub::impl {
  actors::engine* core = nullptr;
  ws_options opts;
  uint64_t bus_token = 0;

  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> clients_dropped{0};

  /// Cluster mode: hands every local event, encoded, to the other nodes.
  /// Set while events flow: read and written with std::atomic_load / atomic_store.
  /// Cluster mode: where local events go for the other nodes, and whether any listens.
  struct cluster_forwarder {
    std::function<void(runtime::cluster_event)> send;
    std::function<bool()> wanted;
  };
  std::shared_ptr<const cluster_forwarder> forwarder;

  std::mutex mtx;
  std::vector<std::weak_ptr<internal::ws_session>> sessions;
  bool stopped = false;

  /// Takes a connection slot; false when at max_connections or stopped. Any thread.
  bool try_reserve();
  /// Gives a slot back (a session ended). Any thread.
  void release() noexcept;
  void add(const std::shared_ptr<internal::ws_session>& session);
  /// Encodes an event once and offers it to every session that wants it (publisher's thread).
  void fan_out(const actors::hive_event& ev);
  /// Offers encoded data to every session that wants `key`.
  void offer_all(const internal::ws_event_key& key, std::string_view type,
                 const std::shared_ptr<const std::string>& data);
};

} // namespace hive::net
