// The load client of the cluster rows (bench/cluster): end-to-end tasks/s over several nodes,
// and the round trip of a run to an agent on another node.
//
// `e2e --ports P1,P2,...`: places --agents-per-node agents (capability "echo") on every node
// through the first one ("placement": node id), waits until every node lists them all, then
// for --seconds keeps --connections keep-alive connections busy with POST /api/tasks (echo),
// spread evenly over the nodes (one epoll thread per node); stops, and polls every node's
// GET /api/hive/status until the finished tasks counted by all of them cover every accepted
// task. Tasks/s = completed / (end of the drain - start), on the client's clock. Latency
// (finished_at - created_at, ms) comes from the store through the first node. Each node's
// `dispatch_us` (round trips of runs to local and to remote agents) is printed too.
//
// `rtt --ports A,B`: one agent on A (capability rtt-local) and one on B (rtt-remote); for
// --seconds, one connection submits to A at --rate tasks/s, alternating the two requirements;
// after the drain, A's `dispatch_us` gives the round trip of a run to its own agent and to the
// agent on B (from the task actor's request to the answer, the echo executor's time included).
//
// Output: human-readable lines on stderr, one `result key=value ...` line on stdout.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <functional>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "bench/http_client.hpp"

namespace {

using namespace hive::bench;

struct node {
  uint16_t port = 0;
  std::string id;
};

std::vector<uint16_t> parse_ports(const std::string& list) {
  std::vector<uint16_t> out;
  size_t at = 0;
  while (at < list.size()) {
    auto comma = list.find(',', at);
    auto part = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!part.empty())
      out.push_back(static_cast<uint16_t>(std::stoi(part)));
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

bool get_json(uint16_t port, const std::string& path, rapidjson::Document& doc) {
  blocking_client c{"127.0.0.1", port};
  unsigned status = 0;
  std::string body, error;
  if (!c.request("GET", path, "", status, body, error) || status != 200) {
    std::fprintf(stderr, "GET %s on %u failed: %s (HTTP %u)\n", path.c_str(), port,
                 error.c_str(), status);
    return false;
  }
  doc.Parse(body.data(), body.size());
  return !doc.HasParseError();
}

/// Each port's own node id (the entry marked self in GET /api/cluster/nodes).
bool identify(std::vector<node>& nodes) {
  for (auto& n : nodes) {
    rapidjson::Document doc;
    if (!get_json(n.port, "/api/cluster/nodes", doc) || !doc.IsObject() || !doc.HasMember("nodes"))
      return false;
    for (const auto& m : doc["nodes"].GetArray())
      if (m.HasMember("self") && m["self"].GetBool())
        n.id = m["node_id"].GetString();
    if (n.id.empty())
      return false;
  }
  return true;
}

bool create_agent(uint16_t via, const std::string& name, const std::string& capability,
                  const std::string& placement, unsigned concurrency) {
  blocking_client c{"127.0.0.1", via};
  unsigned status = 0;
  std::string body, error;
  auto json = R"({"name":")" + name + R"(","capabilities":[{"name":")" + capability
              + R"(","proficiency":0.9}],"max_concurrency":)" + std::to_string(concurrency)
              + R"(,"placement":")" + placement + R"("})";
  if (!c.request("POST", "/api/agents", json, status, body, error) || status != 201) {
    std::fprintf(stderr, "creating agent %s on %s failed: %s (HTTP %u) %s\n", name.c_str(),
                 placement.c_str(), error.c_str(), status, body.c_str());
    return false;
  }
  return true;
}

/// Waits (10 s at most) until every node lists `count` agents.
bool wait_for_agents(const std::vector<node>& nodes, size_t count) {
  auto deadline = clock_type::now() + std::chrono::seconds{10};
  for (const auto& n : nodes) {
    for (;;) {
      rapidjson::Document doc;
      if (get_json(n.port, "/api/agents?limit=1000", doc) && doc.IsArray() && doc.Size() >= count)
        break;
      if (clock_type::now() > deadline) {
        std::fprintf(stderr, "node %s never listed the %zu agents\n", n.id.c_str(), count);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }
  return true;
}

/// Sum over the nodes of the tasks each finished since `base` (finished_tasks per node).
int64_t finished_since(const std::vector<node>& nodes, const std::vector<int64_t>& base,
                       int64_t& completed) {
  int64_t total = 0;
  completed = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    blocking_client c{"127.0.0.1", nodes[i].port};
    int64_t done = 0;
    auto fin = finished_tasks(c, done);
    if (fin < 0)
      return -1;
    total += fin - base[2 * i];
    completed += done - base[2 * i + 1];
  }
  return total;
}

struct dispatch_figures {
  uint64_t local_n = 0, remote_n = 0;
  double local_p50 = 0, local_p99 = 0, remote_p50 = 0, remote_p99 = 0;
};

bool read_dispatch(uint16_t port, dispatch_figures& out) {
  rapidjson::Document doc;
  if (!get_json(port, "/api/hive/status", doc) || !doc.IsObject() || !doc.HasMember("dispatch_us"))
    return false;
  const auto& d = doc["dispatch_us"];
  out.local_n = d["local"]["count"].GetUint64();
  out.local_p50 = d["local"]["p50"].GetDouble();
  out.local_p99 = d["local"]["p99"].GetDouble();
  out.remote_n = d["remote"]["count"].GetUint64();
  out.remote_p50 = d["remote"]["p50"].GetDouble();
  out.remote_p99 = d["remote"]["p99"].GetDouble();
  return true;
}

/// Submits for `seconds` on `conns` connections spread over the nodes (at most `rate` tasks/s
/// in all when > 0); `body_of(seq)` is each task. Returns the accepted count.
uint64_t submit(const std::vector<node>& nodes, double seconds, size_t conns, double rate,
                const std::function<std::string(uint64_t)>& body_of, status_counts& counts) {
  auto start = clock_type::now();
  auto stop_at = start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(seconds));
  std::vector<uint64_t> accepted(nodes.size(), 0);
  std::vector<status_counts> per(nodes.size());
  std::atomic<uint64_t> issued{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < nodes.size(); ++i) {
    threads.emplace_back([&, i] {
      auto host = "127.0.0.1:" + std::to_string(nodes[i].port);
      auto mine = std::max<size_t>(1, conns / nodes.size());
      auto source = [&](size_t, std::string& req) {
        auto now = clock_type::now();
        if (now >= stop_at)
          return next_step::finish;
        if (rate > 0
            && static_cast<double>(issued.load())
                 >= rate * std::chrono::duration<double>(now - start).count())
          return next_step::wait;
        req = make_request("POST", "/api/tasks", body_of(issued++), host);
        return next_step::send;
      };
      auto sink = [&](size_t, const http_reply& r, clock_type::time_point) {
        per[i].add(r);
        if (r.status == 201)
          ++accepted[i];
      };
      std::string error;
      if (!run_load("127.0.0.1", nodes[i].port, mine, source, sink,
                    stop_at + std::chrono::seconds{60}, error))
        std::fprintf(stderr, "load on %s: %s\n", nodes[i].id.c_str(), error.c_str());
    });
  }
  for (auto& t : threads)
    t.join();
  uint64_t total = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    total += accepted[i];
    for (auto [code, n] : per[i].by_status)
      counts.by_status[code] += n;
    if (counts.sample_error.empty())
      counts.sample_error = per[i].sample_error;
  }
  return total;
}

/// Waits until the nodes finished `accepted` tasks since `base` (60 s at most).
bool drain(const std::vector<node>& nodes, const std::vector<int64_t>& base, uint64_t accepted,
           int64_t& completed) {
  auto deadline = clock_type::now() + std::chrono::seconds{60};
  for (;;) {
    auto fin = finished_since(nodes, base, completed);
    if (fin < 0)
      return false;
    if (static_cast<uint64_t>(fin) >= accepted)
      return true;
    if (clock_type::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

std::vector<int64_t> baseline(const std::vector<node>& nodes) {
  std::vector<int64_t> base;
  for (const auto& n : nodes) {
    blocking_client c{"127.0.0.1", n.port};
    int64_t done = 0;
    base.push_back(finished_tasks(c, done));
    base.push_back(done);
  }
  return base;
}

int run_e2e(std::vector<node>& nodes, const options& o) {
  auto seconds = o.num("seconds", 10);
  auto conns = static_cast<size_t>(o.num("connections", 64));
  auto per_node = static_cast<int>(o.num("agents-per-node", 4));
  auto conc = static_cast<unsigned>(o.num("agent-concurrency", 256));
  for (const auto& n : nodes)
    for (int k = 0; k < per_node; ++k)
      if (!create_agent(nodes.front().port, "e2e-" + n.id + "-" + std::to_string(k), "echo",
                        n.id, conc))
        return 1;
  if (!wait_for_agents(nodes, nodes.size() * static_cast<size_t>(per_node)))
    return 1;
  auto base = baseline(nodes);
  status_counts counts;
  auto start = clock_type::now();
  auto accepted = submit(nodes, seconds, conns, 0, [](uint64_t seq) {
    return R"({"type":"echo","payload":{"seq":)" + std::to_string(seq) + "}}";
  }, counts);
  auto submit_secs = seconds_since(start);
  int64_t completed = 0;
  bool drained = drain(nodes, base, accepted, completed);
  auto total_secs = seconds_since(start);
  blocking_client ctl{"127.0.0.1", nodes.front().port};
  std::vector<double> lat;
  uint64_t not_completed = 0;
  if (!read_all_latencies(ctl, completed, lat, not_completed))
    return 1;
  std::sort(lat.begin(), lat.end());
  uint64_t local = 0, remote = 0;
  for (const auto& n : nodes) {
    dispatch_figures d;
    if (read_dispatch(n.port, d)) {
      local += d.local_n;
      remote += d.remote_n;
      std::fprintf(stderr,
                   "cluster e2e: node %s: runs on its agents %" PRIu64 " (p50 %.0f us, p99 %.0f"
                   " us), on other nodes' %" PRIu64 " (p50 %.0f us, p99 %.0f us)\n",
                   n.id.c_str(), d.local_n, d.local_p50, d.local_p99, d.remote_n, d.remote_p50,
                   d.remote_p99);
    }
  }
  auto tps = static_cast<double>(completed) / total_secs;
  std::fprintf(stderr,
               "cluster e2e: %zu nodes, %" PRIu64 " tasks accepted in %.2f s (%s), %" PRId64
               " completed after %.2f s%s: %.0f tasks/s; latency p50 %.0f ms, p99 %.0f ms\n",
               nodes.size(), accepted, submit_secs, counts.non_2xx().c_str(), completed,
               total_secs, drained ? "" : " (drain timed out)", tps, percentile(lat, 50),
               percentile(lat, 99));
  std::printf("result nodes=%zu accepted=%" PRIu64 " completed=%" PRId64 " non_2xx=%" PRIu64
              " statuses=%s drained=%d tasks_per_sec=%.0f lat_p50_ms=%.0f lat_p99_ms=%.0f"
              " local_runs=%" PRIu64 " remote_runs=%" PRIu64 "\n",
              nodes.size(), accepted, completed, counts.not_ok(), counts.non_2xx().c_str(),
              drained ? 1 : 0, tps, percentile(lat, 50), percentile(lat, 99), local, remote);
  return drained && counts.not_ok() == 0 ? 0 : 1;
}

int run_rtt(std::vector<node>& nodes, const options& o) {
  if (nodes.size() != 2) {
    std::fprintf(stderr, "rtt needs --ports A,B\n");
    return 2;
  }
  auto seconds = o.num("seconds", 5);
  auto rate = o.num("rate", 500);
  if (!create_agent(nodes[0].port, "rtt-local", "rtt-local", nodes[0].id, 64)
      || !create_agent(nodes[0].port, "rtt-remote", "rtt-remote", nodes[1].id, 64)
      || !wait_for_agents(nodes, 2))
    return 1;
  std::vector<node> entry{nodes[0]};
  auto base = baseline(entry);
  status_counts counts;
  auto accepted = submit(entry, seconds, 1, rate, [](uint64_t seq) {
    return std::string{R"({"type":"echo","payload":{"seq":)"} + std::to_string(seq)
           + R"(},"required_capabilities":[{"name":")"
           + (seq % 2 == 0 ? "rtt-local" : "rtt-remote") + R"("}]})";
  }, counts);
  int64_t completed = 0;
  bool drained = drain(entry, base, accepted, completed);
  dispatch_figures d;
  if (!read_dispatch(nodes[0].port, d))
    return 1;
  std::fprintf(stderr,
               "cluster rtt: %" PRIu64 " tasks at %.0f/s through %s: run round trip to its own"
               " agent p50 %.0f us, p99 %.0f us (%" PRIu64 "); to the agent on %s p50 %.0f us,"
               " p99 %.0f us (%" PRIu64 ")\n",
               accepted, rate, nodes[0].id.c_str(), d.local_p50, d.local_p99, d.local_n,
               nodes[1].id.c_str(), d.remote_p50, d.remote_p99, d.remote_n);
  std::printf("result accepted=%" PRIu64 " completed=%" PRId64 " drained=%d local_n=%" PRIu64
              " local_p50_us=%.0f local_p99_us=%.0f remote_n=%" PRIu64
              " remote_p50_us=%.0f remote_p99_us=%.0f\n",
              accepted, completed, drained ? 1 : 0, d.local_n, d.local_p50, d.local_p99,
              d.remote_n, d.remote_p50, d.remote_p99);
  return drained && counts.not_ok() == 0 ? 0 : 1;
}

void usage() {
  std::fprintf(stderr,
               "usage: hive_cluster_client COMMAND --ports P1,P2,... [--key value ...]\n"
               "  e2e --ports P1,P2,P3 [--seconds 10] [--connections 64] [--agents-per-node 4]\n"
               "      [--agent-concurrency 256]\n"
               "  rtt --ports A,B [--seconds 5] [--rate 500]\n");
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!o.parse(argc, argv)) {
    usage();
    return 2;
  }
  std::vector<node> nodes;
  for (auto p : parse_ports(o.str("ports", "")))
    nodes.push_back(node{p, {}});
  if (nodes.empty()) {
    usage();
    return 2;
  }
  if (!identify(nodes)) {
    std::fprintf(stderr, "cannot read the nodes' ids (GET /api/cluster/nodes)\n");
    return 1;
  }
  if (o.command == "e2e")
    return run_e2e(nodes, o);
  if (o.command == "rtt")
    return run_rtt(nodes, o);
  usage();
  return 2;
}
