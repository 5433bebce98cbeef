// A small blocking HTTP/1.1 client for tests: one kept-alive connection, plus raw bytes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hive::test {

/// One response as the client read it.
struct http_reply {
  unsigned status = 0; ///< 0 when no response could be read; `error` says why
  std::string body;
  std::map<std::string, std::string> headers; ///< lower-case names; repeated ones joined by ", "
  std::string error;

  /// The value of a header (`name` in lower case), or "" when absent.
  std::string header(const std::string& name) const;
};

/// Not thread-safe: one test thread uses it. Every blocking call gives up after `timeout`
/// (5 s by default), so a server bug fails a test instead of hanging it.
class http_client {
public:
  using header_list = std::vector<std::pair<std::string, std::string>>;

  /// Does not connect yet; the first request does.
  http_client(std::string host, uint16_t port);
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request on the kept-alive connection and reads its response. Reconnects first
  /// if the server closed the connection (or said it would). Adds Host and, when there is a
  /// body or the method usually has one, Content-Length.
  http_reply request(std::string_view method, std::string_view target,
                     std::string_view body = {}, const header_list& headers = {});

  /// Writes bytes as they are (connecting if needed). False if that failed.
  bool send_raw(std::string_view bytes);

  /// Reads one response from the connection, e.g. after send_raw; 1xx responses are skipped
  /// unless `skip_informational` is false.
  http_reply read_reply(bool skip_informational = true);

  /// Reads raw bytes (including any already buffered) until the server closes the connection
  /// (end of stream or reset) and returns them; nullopt if it stays open for `within`. Closes
  /// the client side either way.
  std::optional<std::string> read_until_closed(
    std::chrono::milliseconds within = std::chrono::seconds(5));

  /// True if the server closes the connection within `within` (see read_until_closed).
  bool wait_closed(std::chrono::milliseconds within = std::chrono::seconds(5)) {
    return read_until_closed(within).has_value();
  }

  /// Connects now (a no-op if connected). False if the connection was refused or timed out.
  bool connect();

  /// Closes the connection (the next request reconnects).
  void close();

  bool is_open() const noexcept;

  /// How many TCP connections this client has made.
  std::size_t connects() const noexcept;

  void set_timeout(std::chrono::milliseconds timeout) noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hive::test
