// The REST API of Hive (/health, /ready, /api/agents, /api/tasks, /api/hive/status).
#pragma once

#include "net/http_types.hpp"
#include "net/json_codec.hpp"

namespace hive::actors {
class engine;
} // namespace hive::actors

namespace hive::net {

struct api_options {
  size_t max_batch = 1000; ///< tasks per POST /api/tasks/batch
  codec_limits limits;
};

/// Builds the handler the HTTP server calls for every request. `core` must outlive it.
/// Runs on I/O threads; it decodes and validates the request there and answers from the
/// engine's callback.
http_handler make_api_handler(actors::engine& core, api_options opts = {});

} // namespace hive::net
