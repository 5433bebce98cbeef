// A small keep-alive HTTP/1.1 client for the benchmarks: many connections on one epoll loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hive::bench {

using clock_type = std::chrono::steady_clock;

/// One parsed response. The views point into the parser's buffer and stay valid until the
/// next call to reply_parser::feed or reply_parser::consume.
struct http_reply {
  unsigned status = 0;
  std::string_view headers; ///< header lines after the status line
  std::string_view body;

  /// The value of header `name` (ASCII case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const;
};

/// Splits a byte stream into responses. Only Content-Length bodies are understood, which is
/// what Hive sends; a chunked or unframed reply is reported as an error.
class reply_parser {
public:
  void feed(const char* data, size_t size) { buf_.append(data, size); }

  /// 1: a whole reply is in `out`; 0: more bytes are needed; -1: malformed (see `error`).
  int next(http_reply& out, std::string& error);

  /// Drops the reply that next() returned last.
  void consume();

private:
  std::string buf_;
  size_t reply_size_ = 0;
};

/// Formats one request; adds Content-Type: application/json when `body` is not empty.
std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view host);

/// Opens a TCP connection to a numeric IPv4 `host`; returns the socket or -1 with `error` set.
int connect_to(const std::string& host, uint16_t port, std::string& error);

/// One blocking keep-alive connection for control requests (status polls, read-back).
/// Not thread-safe; reconnects when the server closed the previous connection.
class blocking_client {
public:
  blocking_client(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}
  ~blocking_client();
  blocking_client(const blocking_client&) = delete;
  blocking_client& operator=(const blocking_client&) = delete;

  /// Sends one request and waits up to `timeout` for its reply. On success `status`,
  /// `body` and `headers` hold the reply.
  bool request(std::string_view method, std::string_view target, std::string_view body,
               unsigned& status, std::string& body_out, std::string& error,
               std::string* headers_out = nullptr,
               std::chrono::milliseconds timeout = std::chrono::seconds{30});

private:
  std::string host_;
  uint16_t port_;
  int fd_ = -1;
  reply_parser parser_;
};

/// What an idle connection does next.
enum class next_step { send, wait, finish };

/// Asked whenever connection `conn` has no request in flight; fills `request` for `send`.
using request_source = std::function<next_step(size_t conn, std::string& request)>;

/// Called with each reply and the time its request was handed to the socket.
using reply_sink =
    std::function<void(size_t conn, const http_reply& reply, clock_type::time_point sent)>;

/// Drives `connections` keep-alive connections, one request in flight on each, until every
/// connection has said `finish`. Returns false with `error` on a transport failure or when
/// `deadline` passes first.
bool run_load(const std::string& host, uint16_t port, size_t connections,
              const request_source& source, const reply_sink& sink, clock_type::time_point deadline,
              std::string& error);

/// `--key value` command-line options of the bench tools.
struct options {
  std::string command;
  std::map<std::string, std::string> values;

  /// `COMMAND --key value ...` (in any order); false when an argument fits neither.
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) == 0 && i + 1 < argc)
        values[arg.substr(2)] = argv[++i];
      else if (arg.rfind("--", 0) != 0 && command.empty())
        command = arg;
      else
        return false;
    }
    return true;
  }

  std::string str(const std::string& key, std::string fallback) const {
    auto i = values.find(key);
    return i == values.end() ? fallback : i->second;
  }
  double num(const std::string& key, double fallback) const {
    auto i = values.find(key);
    return i == values.end() ? fallback : std::strtod(i->second.c_str(), nullptr);
  }
};

/// Finished tasks per GET /api/hive/status (completed, failed, dead, cancelled), the completed
/// ones in `completed`; -1 when the status cannot be read (the reason goes to stderr).
int64_t finished_tasks(blocking_client& ctl, int64_t& completed);

/// Replies by status code, and a printable summary of the ones outside 2xx.
struct status_counts {
  std::map<unsigned, uint64_t> by_status;
  std::string sample_error;

  void add(const http_reply& r);
  uint64_t ok() const;
  uint64_t not_ok() const;
  /// "503:12,429:3" or "none".
  std::string non_2xx() const;
};

double seconds_since(clock_type::time_point start);
/// Nearest-rank percentile of sorted values; 0 when there are none.
double percentile(const std::vector<double>& sorted, double p);
/// Latencies (finished_at - created_at, ms) of every completed task, read back page by page
/// through GET /api/tasks; `failed` counts the tasks that did not complete. False on failure.
bool read_latencies(blocking_client& ctl, std::vector<double>& out, uint64_t& failed);
/// read_latencies, again every 100 ms (5 s at most) until it has `completed` of them: the
/// store is written behind the engine, so the last rows may land a moment late.
bool read_all_latencies(blocking_client& ctl, int64_t completed, std::vector<double>& out,
                        uint64_t& failed);

} // namespace hive::bench
