// A Hive node in a cluster: its node actor published with CAF's io middleman, joining through
// seeds, membership with heartbeats and failure detection. No CAF in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cluster_view.hpp"
#include "runtime/config.hpp"
#include "runtime/error.hpp"

namespace caf {
class actor;
class actor_system;
class actor_system_config;
} // namespace caf

namespace hive::persistence {
class store;
} // namespace hive::persistence

namespace hive::cluster {

/// Loads the io middleman and registers the messages that cross nodes. Call on the config
/// before the actor system is made (cluster mode only).
/// With cluster.tls(), links between nodes use CAF's OpenSSL module with that certificate.
void configure(caf::actor_system_config& sys_cfg, const runtime::cluster_config& cfg);

/// What a node tells the others about itself at each heartbeat.
struct node_load {
  uint64_t agents = 0;            ///< living on this node
  uint64_t running = 0;           ///< tasks running
  uint64_t websocket_clients = 0; ///< the others send it events only while it has some
};

/// How busy this node is, for the others. Called on the node actor's thread; must not block.
using load_probe = std::function<node_load()>;

/// Takes the events of other nodes (for this node's WebSocket clients); called on the node
/// actor's thread; must not block.
using event_sink = std::function<void(const runtime::cluster_event&)>;

/// What a node works with besides the membership.
struct node_links {
  /// This node's scheduler: told when nodes come and go (peer_up_msg / peer_down_msg, so it
  /// exchanges agents with theirs) and given the tasks taken over from lost nodes.
  const caf::actor* scheduler = nullptr;
  /// The shared store: this node's lease is renewed there at every heartbeat, and every
  /// failure timeout the unfinished tasks of nodes whose lease expired are taken over (on a
  /// thread of the node's own, never on the node actor).
  persistence::store* store = nullptr;
  load_probe load;
  event_sink remote_events;
  /// Another node changed the Lua script of this name (stored in the shared database): read
  /// it again. Called on the node actor's thread; must not block.
  std::function<void(const std::string&)> script_changed;
};

/// How long a node's lease lasts after each renewal: twice the failure timeout, so a node
/// that is merely slow to renew is not taken over.
uint32_t lease_ttl_ms(const runtime::cluster_config& cfg) noexcept;

/// This node's membership of the cluster.
///
/// start() publishes the node actor on cluster.port, then asks each seed (host:port) to let
/// it join, with the shared secret: a seed that knows the secret answers with every node it
/// knows, tells them about the newcomer, and from then on all of them exchange heartbeats.
/// A seed that does not answer is skipped (the first node of a cluster has nobody to join);
/// a seed that refuses the secret stops the start. A node is offline when its connection is
/// lost (CAF's down message) or after failure_timeout_ms without a heartbeat, and online again
/// when it is heard from (a restarted node joins again through its seeds).
class node {
public:
  static result<std::unique_ptr<node>> start(caf::actor_system& sys,
                                             const runtime::cluster_config& cfg,
                                             uint16_t http_port, node_links links);
  ~node(); ///< stops the node actor (the others see this node go offline)

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Every node this one knows, itself first. Thread-safe, does not block.
  std::vector<runtime::cluster_member> members() const;

  /// Sends a local event to every online node that has WebSocket clients (batched every few
  /// milliseconds; beyond 10,000 waiting events the oldest are dropped and counted).
  /// Thread-safe, does not block.
  void forward(runtime::cluster_event ev);
  /// forward() as a function that stays safe to call after this node is gone (it then does
  /// nothing useful): for publishers that may outlive it.
  std::function<void(runtime::cluster_event)> forwarder() const;
  /// A function that tells every online node that the Lua script `name` changed here (they
  /// read it again from the database); safe to call after this node is gone.
  std::function<void(const std::string&)> script_notifier() const;
  /// Whether any other online node has WebSocket clients (as of their last heartbeats): when
  /// not, publishers need not encode events for the cluster. Safe after the node is gone.
  std::function<bool()> listened() const;

  struct impl;

private:
  explicit node(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

} // namespace hive::cluster
