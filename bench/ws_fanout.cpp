// WebSocket fan-out: events per second delivered to N clients of GET /ws while tasks run.
//
// Method (printed beside the numbers by bench/run):
//   1. create --agents agents (capability "echo", max_concurrency --agent-concurrency);
//   2. connect --clients WebSocket clients to ws://HOST:PORT/ws (one asio io_context on one
//      thread, one async read in flight per client) and wait for each one's hive_status;
//   3. for --seconds, submit echo tasks with POST /api/tasks/batch (--batch tasks each) on
//      --connections keep-alive connections, one request in flight each, at most --rate tasks/s
//      (0: as fast as the server answers);
//   4. stop submitting, wait until every accepted task has finished (GET /api/hive/status) and
//      then until no client has received anything for --quiet-ms;
//   5. delivered/s = events received by all clients together / (moment of the last event -
//      moment just before the first submission). Per client, `seq` must grow by exactly 1 per
//      message; events the server dropped for a slow client are counted from its `lagged`
//      notices ({"missed":N}); a client whose socket ends before we close it counts as
//      disconnected.
// Output: human-readable lines on stderr, one `result key=value ...` line on stdout.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <rapidjson/document.h>

#include "bench/http_client.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace hive::bench;
using std::chrono::duration;

/// Counters shared between the reading thread and the main thread.
struct totals {
  std::atomic<uint64_t> events{0};     ///< task/agent events received (not control messages)
  std::atomic<uint64_t> missed{0};     ///< sum of lagged.missed
  std::atomic<uint64_t> lagged{0};     ///< lagged notices
  std::atomic<uint64_t> seq_gaps{0};   ///< seq not previous + 1
  std::atomic<uint64_t> disconnected{0};
  std::atomic<uint64_t> ready{0};      ///< clients that got their hive_status
  std::atomic<int64_t> last_event_ns{0};
  std::atomic<bool> closing{false};
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

/// The number after `"key":` in text, or -1.
int64_t number_after(std::string_view text, std::string_view key) {
  auto at = text.find(key);
  if (at == std::string_view::npos)
    return -1;
  at += key.size();
  int64_t v = 0;
  bool any = false;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    v = v * 10 + (text[at++] - '0');
    any = true;
  }
  return any ? v : -1;
}

class client : public std::enable_shared_from_this<client> {
public:
  client(asio::io_context& io, totals& t) : ws_(io), t_(t) {}

  void start(const tcp::endpoint& ep, std::string host) {
    host_ = std::move(host);
    beast::get_lowest_layer(ws_).async_connect(
      ep, [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
  }

  /// Events this client received (read after the reading thread stopped).
  uint64_t events() const { return events_; }

private:
  void on_connect(beast::error_code ec) {
    if (ec)
      return fail("connect", ec);
    ws_.async_handshake(host_, "/ws",
                        [self = shared_from_this()](beast::error_code ec) {
                          if (ec)
                            return self->fail("handshake", ec);
                          self->read();
                        });
  }

  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec)
      return fail("read", ec);
    auto data = buf_.cdata();
    std::string_view text{static_cast<const char*>(data.data()), data.size()};
    // The envelope starts {"type":"...","seq":N,...}: no full parse needed.
    auto seq = number_after(text, R"("seq":)");
    if (seq != static_cast<int64_t>(last_seq_ + 1))
      t_.seq_gaps.fetch_add(1, std::memory_order_relaxed);
    if (seq > 0)
      last_seq_ = static_cast<uint64_t>(seq);
    if (text.rfind(R"({"type":"lagged")", 0) == 0) {
      t_.lagged.fetch_add(1, std::memory_order_relaxed);
      auto missed = number_after(text, R"("missed":)");
      if (missed > 0)
        t_.missed.fetch_add(static_cast<uint64_t>(missed), std::memory_order_relaxed);
    } else if (text.rfind(R"({"type":"hive_status")", 0) == 0) {
      if (!ready_) {
        ready_ = true;
        t_.ready.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (text.rfind(R"({"type":"task_)", 0) == 0 || text.rfind(R"({"type":"agent_)", 0) == 0) {
      ++events_;
      t_.events.fetch_add(1, std::memory_order_relaxed);
      t_.last_event_ns.store(now_ns(), std::memory_order_relaxed);
    }
    buf_.consume(buf_.size());
    read();
  }

  void fail(const char* what, beast::error_code ec) {
    if (t_.closing.load())
      return;
    t_.disconnected.fetch_add(1);
    std::fprintf(stderr, "ws_fanout: a client's %s failed: %s\n", what, ec.message().c_str());
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  totals& t_;
  std::string host_;
  uint64_t last_seq_ = 0;
  uint64_t events_ = 0;
  bool ready_ = false;
};

std::string agent_body(const std::string& name, unsigned max_concurrency) {
  return R"({"name":")" + name + R"(","capabilities":[{"name":"echo","proficiency":0.9}],)"
         + R"("max_concurrency":)" + std::to_string(max_concurrency) + "}";
}

std::string batch_body(uint64_t first_seq, size_t count) {
  std::string body = R"({"tasks":[)";
  for (size_t i = 0; i < count; ++i)
    body += std::string{i == 0 ? "" : ","} + R"({"type":"echo","payload":{"seq":)"
            + std::to_string(first_seq + i) + "}}";
  return body + "]}";
}

/// A counter from /metrics (first sample with that name), or -1 (metrics off or missing).
double metric(blocking_client& ctl, const std::string& name) {
  unsigned status = 0;
  std::string body, error;
  if (!ctl.request("GET", "/metrics", "", status, body, error) || status != 200)
    return -1;
  auto at = body.find("\n" + name);
  if (at == std::string::npos)
    return -1;
  auto sp = body.find(' ', at + 1);
  return sp == std::string::npos ? -1 : std::strtod(body.c_str() + sp + 1, nullptr);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      std::fprintf(stderr, "usage: hive_ws_fanout --port N [--host 127.0.0.1] [--clients 100]\n"
                           "  [--seconds 10] [--rate 0] [--batch 10] [--connections 2]\n"
                           "  [--agents 4] [--agent-concurrency 256] [--quiet-ms 500]\n");
      return 2;
    }
    o.values[arg.substr(2)] = argv[i + 1];
  }
  auto host = o.str("host", "127.0.0.1");
  auto port = static_cast<uint16_t>(o.num("port", 0));
  auto n_clients = static_cast<size_t>(o.num("clients", 100));
  auto seconds = o.num("seconds", 10);
  auto rate = o.num("rate", 0);
  auto batch = static_cast<uint64_t>(o.num("batch", 10));
  auto conns = static_cast<size_t>(o.num("connections", 2));
  auto agents = static_cast<int>(o.num("agents", 4));
  auto agent_conc = static_cast<unsigned>(o.num("agent-concurrency", 256));
  auto quiet_ms = o.num("quiet-ms", 500);
  if (port == 0) {
    std::fprintf(stderr, "ws_fanout: --port is required\n");
    return 2;
  }
  auto host_header = host + ":" + std::to_string(port);

  blocking_client ctl{host, port};
  for (int i = 0; i < agents; ++i) {
    unsigned status = 0;
    std::string body, error;
    if (!ctl.request("POST", "/api/agents",
                     agent_body("fanout-agent-" + std::to_string(i), agent_conc), status, body,
                     error)
        || status != 201) {
      std::fprintf(stderr, "ws_fanout: creating agent %d failed: %s (HTTP %u) %s\n", i,
                   error.c_str(), status, body.c_str());
      return 1;
    }
  }

  // The clients, on one thread.
  totals t;
  asio::io_context io{1};
  tcp::endpoint ep{asio::ip::make_address(host), port};
  std::vector<std::shared_ptr<client>> clients;
  for (size_t i = 0; i < n_clients; ++i) {
    clients.push_back(std::make_shared<client>(io, t));
    clients.back()->start(ep, host_header);
  }
  auto work = asio::make_work_guard(io);
  std::thread reader{[&] { io.run(); }};
  auto connect_deadline = clock_type::now() + std::chrono::seconds{10};
  while (t.ready.load() + t.disconnected.load() < n_clients && clock_type::now() < connect_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  auto ready = t.ready.load();
  std::fprintf(stderr, "ws_fanout: %" PRIu64 " of %zu clients connected\n", ready, n_clients);
  // Nothing counted so far belongs to the load (agent_created of the agents above).
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  auto sent_before = metric(ctl, "hive_websocket_events_sent_total");
  auto dropped_before = metric(ctl, "hive_websocket_events_dropped_total");
  auto events_before = t.events.load();

  // The load.
  uint64_t issued = 0, accepted = 0, refused = 0;
  auto start = clock_type::now();
  auto stop_at = start + std::chrono::duration_cast<clock_type::duration>(duration<double>(seconds));
  auto source = [&](size_t, std::string& req) {
    auto now = clock_type::now();
    if (now >= stop_at)
      return next_step::finish;
    if (rate > 0 && static_cast<double>(issued) >= rate * duration<double>(now - start).count())
      return next_step::wait;
    req = make_request("POST", "/api/tasks/batch", batch_body(issued, batch), host_header);
    issued += batch;
    return next_step::send;
  };
  auto sink = [&](size_t, const http_reply& r, clock_type::time_point) {
    if (r.status == 201)
      accepted += batch;
    else
      ++refused;
  };
  std::string error;
  if (!run_load(host, port, conns, source, sink, stop_at + std::chrono::seconds{60}, error)) {
    std::fprintf(stderr, "ws_fanout: load failed: %s\n", error.c_str());
    t.closing = true;
    io.stop();
    reader.join();
    return 1;
  }
  auto submit_secs = duration<double>(clock_type::now() - start).count();

  // Drain: every task finished, then the stream quiet.
  int64_t completed = 0, finished = 0;
  auto drain_deadline = clock_type::now() + std::chrono::seconds{60};
  while (clock_type::now() < drain_deadline) {
    finished = finished_tasks(ctl, completed);
    if (finished >= 0 && static_cast<uint64_t>(finished) >= accepted)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  auto quiet = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 duration<double, std::milli>(quiet_ms))
                 .count();
  while (clock_type::now() < drain_deadline
         && now_ns() - t.last_event_ns.load() < quiet)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  auto events = t.events.load() - events_before;
  auto start_ns =
    std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
  auto last_ns = t.last_event_ns.load();
  auto window = last_ns > start_ns ? static_cast<double>(last_ns - start_ns) / 1e9 : 0.0;
  auto missed = t.missed.load();
  auto lagged = t.lagged.load();
  auto gaps = t.seq_gaps.load();
  auto disconnected = t.disconnected.load();
  t.closing = true;
  auto sent_after = metric(ctl, "hive_websocket_events_sent_total");
  auto dropped_after = metric(ctl, "hive_websocket_events_dropped_total");
  work.reset();
  io.stop();
  reader.join();

  uint64_t min_events = UINT64_MAX, max_events = 0;
  for (const auto& c : clients) {
    min_events = std::min(min_events, c->events());
    max_events = std::max(max_events, c->events());
  }
  if (clients.empty())
    min_events = 0;
  auto per_sec = window > 0 ? static_cast<double>(events) / window : 0.0;
  auto live = ready > disconnected ? ready - disconnected : 0;
  auto published = ready > 0 ? static_cast<double>(events + missed) / static_cast<double>(ready) : 0.0;
  double server_sent = sent_before >= 0 && sent_after >= 0 ? sent_after - sent_before : -1;
  double server_dropped =
    dropped_before >= 0 && dropped_after >= 0 ? dropped_after - dropped_before : -1;
  // Events per task as the server offered them: what it queued plus what it dropped, per client
  // (from /metrics when it is on, else from what the clients saw).
  if (server_sent >= 0 && server_dropped >= 0 && ready > 0)
    published = (server_sent + server_dropped) / static_cast<double>(ready);
  auto per_task = completed > 0 ? published / static_cast<double>(completed) : 0.0;
  std::fprintf(stderr,
               "ws_fanout: %" PRIu64 " tasks accepted in %.2f s (%" PRIu64 " batches refused), %"
               PRId64 " completed; %zu clients received %" PRIu64 " events in %.3f s: %.0f/s "
               "delivered, %.0f/s published (%.1f events per task); %" PRIu64
               " missed in %" PRIu64 " lagged notices, %" PRIu64 " seq gaps, %" PRIu64
               " clients disconnected; server counted %.0f sent, %.0f dropped; per client %"
               PRIu64 " to %" PRIu64 " events (including agent_created before the load)\n",
               accepted, submit_secs, refused, completed, static_cast<size_t>(ready), events,
               window, per_sec, per_sec / static_cast<double>(ready ? ready : 1), per_task, missed,
               lagged, gaps, disconnected, server_sent, server_dropped, min_events, max_events);
  std::printf("result clients=%" PRIu64 " live=%" PRIu64 " accepted=%" PRIu64 " completed=%" PRId64
              " refused=%" PRIu64 " submit_secs=%.3f window_secs=%.3f events=%" PRIu64
              " delivered_per_sec=%.0f published_per_sec=%.0f events_per_task=%.1f"
              " missed=%" PRIu64 " lagged=%" PRIu64 " seq_gaps=%" PRIu64
              " disconnected=%" PRIu64 " server_sent=%.0f server_dropped=%.0f"
              " client_min=%" PRIu64 " client_max=%" PRIu64 "\n",
              ready, live, accepted, completed, refused, submit_secs, window, events, per_sec,
              per_sec / static_cast<double>(ready ? ready : 1), per_task, missed, lagged, gaps,
              disconnected, server_sent, server_dropped, min_events, max_events);
  return ready == n_clients && disconnected == 0 ? 0 : 1;
}
