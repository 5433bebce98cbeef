// What the HTTP layer shows of a cluster node (filled by cluster/, encoded by net/).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/model.hpp"

namespace hive::runtime {

struct cluster_member {
  std::string node_id;
  std::string address;  ///< host:cluster_port
  uint16_t http_port = 0;
  std::string state;    ///< online or offline
  uint64_t agents = 0;
  uint64_t running_tasks = 0;
  uint64_t websocket_clients = 0; ///< events are sent to a node only while it has some
  timestamp_ms last_heartbeat = 0; ///< when this node last heard from it (0 for itself)
  bool self = false;
};

/// An event of another node for this node's WebSocket clients: what the filters look at, and
/// the event's `data` as the origin encoded it (net/ makes and takes these; cluster/ carries
/// them between nodes).
struct cluster_event {
  uint8_t type = 0;        ///< actors::event_type
  std::string task_type;   ///< filters: empty when none
  std::string agent_id;
  int8_t priority = -1;    ///< -1: none
  std::string data;        ///< the event's JSON data
  std::string origin;      ///< the node it happened on
};

} // namespace hive::runtime
