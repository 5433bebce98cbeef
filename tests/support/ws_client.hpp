// A small blocking WebSocket client for tests (one connection, every read with a deadline).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace hive::test {

class ws_client {
public:
  /// Connects and performs the upgrade of `target`; check ok() / error().
  ws_client(const std::string& host, uint16_t port, const std::string& target = "/ws");
  ~ws_client();

  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  bool ok() const noexcept;
  const std::string& error() const noexcept;
  /// HTTP status of a refused upgrade (e.g. 503), 0 otherwise.
  unsigned refused_status() const noexcept;

  bool send(const std::string& text);
  /// The next message, or nullopt when the server closed the connection or none arrived within
  /// `within`. A timeout ends this client (the connection is closed; see timed_out()).
  std::optional<std::string> read(std::chrono::milliseconds within = std::chrono::seconds(5));
  /// True once the server closed the connection (a read failed with end of stream/reset).
  bool closed() const noexcept;
  /// True once a read gave up waiting.
  bool timed_out() const noexcept;

  /// Sends a ping frame; pongs are seen by later reads (pongs_seen()).
  bool ping(const std::string& payload = "hive");
  int pongs_seen() const noexcept;
  /// The closing handshake: sends a close frame and waits (within the deadline) for the
  /// server's close frame and the end of the connection. True when it completed cleanly.
  bool close_handshake(std::chrono::milliseconds within = std::chrono::seconds(5));

  /// Makes the kernel receive buffer small, so that a client that does not read fills up fast.
  void shrink_receive_buffer();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hive::test
