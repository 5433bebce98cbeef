// The Boost.Beast HTTP/1.1 server: accepts connections and hands requests to an http_handler.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/http_types.hpp"
#include "runtime/error.hpp"

namespace hive::net {

class ws_hub;

struct http_server_options {
  std::string host = "0.0.0.0";
  uint16_t port = 3001; ///< 0 picks a free port (see http_server::port)
  uint32_t max_connections = 1000;
  uint32_t keep_alive_timeout_secs = 75;
  uint32_t request_timeout_secs = 30;
  uint64_t max_body_bytes = 1 << 20;
  uint32_t io_threads = 1;
  /// Which requests get an access log line (info; warn for 5xx) with their request id.
  enum class access_log : unsigned char { off, errors, all } access = access_log::errors;
  /// Takes over `GET /ws` upgrade requests; without it they reach the handler like any other.
  std::shared_ptr<ws_hub> websocket;
};

struct http_server_stats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0; ///< over max_connections
  uint64_t requests = 0;
};

/// Owns the I/O threads, the listener and all sessions. Keep-alive, pipelining (requests are
/// answered in order), a per-request timeout (408), an idle keep-alive timeout, a body limit
/// (413) and a connection limit (503, then close) are handled here; everything else is the
/// handler's. Start/stop are called from one thread (app's main).
class http_server {
public:
  /// Binds and listens; fails with a clear error if the address is taken or invalid.
  static result<std::unique_ptr<http_server>> start(const http_server_options& opts,
                                                    http_handler handler);
  virtual ~http_server() = default;

  /// The bound port (useful with port 0).
  virtual uint16_t port() const noexcept = 0;

  /// Stops accepting; open connections finish their current request, then close.
  virtual void stop_accepting() = 0;

  /// Closes every connection and joins the I/O threads.
  virtual void stop() = 0;

  virtual http_server_stats stats() const = 0;
};

} // namespace hive::net
