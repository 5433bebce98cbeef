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
  timestamp_ms last_heartbeat = 0; ///< when this node last heard from it (0 for itself)
  bool self = false;
};

} // namespace hive::runtime
