// The load client for what wrk cannot measure: end-to-end echo tasks/s, submit-to-completion
// latency, and creating or submitting an exact number of agents or tasks.
//
// Method of `e2e` (printed beside the numbers by bench/run):
//   1. create --agents agents (capability "echo", max_concurrency --agent-concurrency);
//   2. for --seconds, keep --connections keep-alive connections busy with POST /api/tasks
//      (or POST /api/tasks/batch with --batch tasks each), one request in flight per
//      connection; --rate caps the submissions per second (0: as fast as the server answers);
//   3. stop submitting, then poll GET /api/hive/status every 20 ms (bounded by --drain-secs)
//      until completed + failed + dead + cancelled covers every accepted task;
//   4. throughput = accepted tasks / (moment the poll saw them all finished - moment just before
//      the first request was sent), both on the client's clock;
//   5. latency: page through GET /api/tasks?limit=1000 and take finished_at - created_at of each
//      completed task (server clock, ms resolution): created_at is stamped when the server
//      accepts the task, finished_at when the agent's result is recorded.
// Output: human-readable lines on stderr, one `result key=value ...` line on stdout.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "bench/http_client.hpp"

namespace {

using namespace hive::bench;
using std::chrono::duration;
using std::chrono::milliseconds;

std::string agent_body(const std::string& name, unsigned max_concurrency) {
  return R"({"name":")" + name + R"(","capabilities":[{"name":"echo","proficiency":0.9}],)"
         + R"("max_concurrency":)" + std::to_string(max_concurrency) + "}";
}

// Texts for --type nlp.analyze (about 400 characters each), taken in turn.
constexpr const char* sample_texts[] = {
  "The support team resolved the outage within an hour. Customers praised the quick response, "
  "although several reported that the status page was slow to update. Engineering will add "
  "automatic alerts so that the page changes as soon as an incident is declared. Overall the "
  "quarter went well: ticket volume fell and satisfaction rose to its highest level this year.",
  "Sales of the new laptop were disappointing. Reviewers complained about poor battery life and "
  "a noisy fan, and returns doubled in the second month. The hardware group is testing a revised "
  "cooling design, while marketing plans a price cut to clear the remaining stock before the "
  "holiday season. Analysts expect a weak fourth quarter for the division.",
  "Researchers trained a small neural network to route support tickets to the right team. It "
  "learned from past assignments and their outcomes, and after two weeks it matched the best "
  "human dispatcher. The team now uses it for most incoming tickets and reviews only the cases "
  "where the model is unsure, which cut the average handling time by a third.",
};

std::string task_json(uint64_t seq, const std::string& type) {
  if (type == "nlp.analyze")
    return R"({"type":"nlp.analyze","payload":{"seq":)" + std::to_string(seq) + R"(,"text":")"
           + sample_texts[seq % 3] + R"("}})";
  return R"({"type":")" + type + R"(","payload":{"seq":)" + std::to_string(seq) + "}}";
}

std::string batch_body(uint64_t first_seq, size_t count, const std::string& type) {
  std::string body = R"({"tasks":[)";
  for (size_t i = 0; i < count; ++i)
    body += (i == 0 ? "" : ",") + task_json(first_seq + i, type);
  return body + "]}";
}

struct target {
  std::string host;
  uint16_t port = 0;
  std::string host_header;
};

// -- agents: create exactly N agents --------------------------------------------------

int create_agents(const target& t, const options& o) {
  auto count = static_cast<uint64_t>(o.num("count", 1000));
  auto conns = static_cast<size_t>(o.num("connections", 32));
  auto max_conc = static_cast<unsigned>(o.num("max-concurrency", 4));
  auto prefix = o.str("prefix", "idle-agent");
  uint64_t issued = 0;
  status_counts counts;
  auto source = [&](size_t, std::string& req) {
    if (issued >= count)
      return next_step::finish;
    req =
        make_request("POST", "/api/agents",
                     agent_body(prefix + "-" + std::to_string(issued++), max_conc), t.host_header);
    return next_step::send;
  };
  auto sink = [&](size_t, const http_reply& r, clock_type::time_point) { counts.add(r); };
  auto start = clock_type::now();
  std::string error;
  if (!run_load(t.host, t.port, conns, source, sink, start + std::chrono::minutes{5}, error)) {
    std::fprintf(stderr, "agents: %s\n", error.c_str());
    return 1;
  }
  auto secs = seconds_since(start);
  std::fprintf(stderr, "agents: %" PRIu64 " created, %" PRIu64 " refused (%s) in %.2f s\n",
               counts.ok(), counts.not_ok(), counts.non_2xx().c_str(), secs);
  if (!counts.sample_error.empty())
    std::fprintf(stderr, "agents: first refusal: %s\n", counts.sample_error.c_str());
  std::printf("result created=%" PRIu64 " non_2xx=%" PRIu64 " statuses=%s secs=%.3f per_sec=%.0f\n",
              counts.ok(), counts.not_ok(), counts.non_2xx().c_str(), secs,
              static_cast<double>(counts.ok()) / secs);
  return counts.not_ok() == 0 ? 0 : 1;
}

// -- fill: submit exactly N echo tasks in batches ---------------------------------------

int fill_tasks(const target& t, const options& o) {
  auto count = static_cast<uint64_t>(o.num("count", 5000));
  auto batch = static_cast<uint64_t>(o.num("batch", 500));
  auto conns = static_cast<size_t>(o.num("connections", 4));
  uint64_t issued = 0;
  uint64_t accepted = 0;
  status_counts counts;
  auto source = [&](size_t, std::string& req) {
    if (issued >= count)
      return next_step::finish;
    auto n = std::min(batch, count - issued);
    req = make_request("POST", "/api/tasks/batch", batch_body(issued, n, "echo"), t.host_header);
    issued += n;
    return next_step::send;
  };
  auto sink = [&](size_t, const http_reply& r, clock_type::time_point) {
    counts.add(r);
    if (r.status == 201) {
      rapidjson::Document doc;
      doc.Parse(r.body.data(), r.body.size());
      if (doc.IsArray())
        accepted += doc.Size();
    }
  };
  auto start = clock_type::now();
  std::string error;
  if (!run_load(t.host, t.port, conns, source, sink, start + std::chrono::minutes{5}, error)) {
    std::fprintf(stderr, "fill: %s\n", error.c_str());
    return 1;
  }
  auto secs = seconds_since(start);
  std::fprintf(stderr,
               "fill: %" PRIu64 " tasks accepted in %.2f s, %" PRIu64 " batches refused (%s)\n",
               accepted, secs, counts.not_ok(), counts.non_2xx().c_str());
  std::printf("result accepted=%" PRIu64 " non_2xx=%" PRIu64 " statuses=%s secs=%.3f\n", accepted,
              counts.not_ok(), counts.non_2xx().c_str(), secs);
  return accepted == count ? 0 : 1;
}

// -- e2e: submit for D seconds, wait for completion, read the tasks back ------------------

int run_e2e(const target& t, const options& o) {
  auto seconds = o.num("seconds", 10);
  auto conns = static_cast<size_t>(o.num("connections", 32));
  auto batch = static_cast<uint64_t>(o.num("batch", 1));
  auto rate = o.num("rate", 0);
  auto agents = static_cast<int>(o.num("agents", 8));
  auto agent_conc = static_cast<unsigned>(o.num("agent-concurrency", 256));
  auto drain_secs = o.num("drain-secs", 60);
  auto type = o.str("type", "echo"); // echo or nlp.analyze (with a text) or any payload-less type

  blocking_client ctl{t.host, t.port};
  for (int i = 0; i < agents; ++i) {
    unsigned status = 0;
    std::string body, error;
    if (!ctl.request("POST", "/api/agents",
                     agent_body("e2e-agent-" + std::to_string(i), agent_conc), status, body, error)
        || status != 201) {
      std::fprintf(stderr, "e2e: creating agent %d failed: %s (HTTP %u) %s\n", i, error.c_str(),
                   status, body.c_str());
      return 1;
    }
  }

  uint64_t issued = 0;
  uint64_t accepted = 0;
  status_counts counts;
  std::vector<double> post_ms;
  auto start = clock_type::now();
  auto stop_at =
      start + std::chrono::duration_cast<clock_type::duration>(duration<double>(seconds));
  auto source = [&](size_t, std::string& req) {
    auto now = clock_type::now();
    if (now >= stop_at)
      return next_step::finish;
    if (rate > 0 && static_cast<double>(issued) >= rate * duration<double>(now - start).count())
      return next_step::wait;
    if (batch <= 1) {
      req = make_request("POST", "/api/tasks", task_json(issued, type), t.host_header);
      ++issued;
    } else {
      req = make_request("POST", "/api/tasks/batch", batch_body(issued, batch, type),
                         t.host_header);
      issued += batch;
    }
    return next_step::send;
  };
  auto sink = [&](size_t, const http_reply& r, clock_type::time_point sent) {
    counts.add(r);
    if (r.status == 201) {
      accepted += batch;
      post_ms.push_back(duration<double, std::milli>(clock_type::now() - sent).count());
    }
  };
  std::string error;
  if (!run_load(t.host, t.port, conns, source, sink, stop_at + std::chrono::seconds{60}, error)) {
    std::fprintf(stderr, "e2e: %s\n", error.c_str());
    return 1;
  }
  auto submit_secs = seconds_since(start);

  // Wait until the server has finished every accepted task.
  auto drain_deadline =
      clock_type::now()
      + std::chrono::duration_cast<clock_type::duration>(duration<double>(drain_secs));
  int64_t completed = 0;
  int64_t finished = 0;
  for (;;) {
    finished = finished_tasks(ctl, completed);
    if (finished < 0)
      return 1;
    if (static_cast<uint64_t>(finished) >= accepted || clock_type::now() >= drain_deadline)
      break;
    std::this_thread::sleep_for(milliseconds{20});
  }
  auto total_secs = seconds_since(start);
  bool drained = static_cast<uint64_t>(finished) >= accepted;

  std::vector<double> lat;
  uint64_t not_completed = 0;
  if (!read_all_latencies(ctl, completed, lat, not_completed))
    return 1;
  std::sort(lat.begin(), lat.end());
  std::sort(post_ms.begin(), post_ms.end());
  auto tasks_per_sec = static_cast<double>(completed) / total_secs;

  std::fprintf(stderr,
               "e2e: %" PRIu64 " tasks accepted in %.2f s (%s), %" PRId64
               " completed after %.2f s%s; %.0f tasks/s end to end\n",
               accepted, submit_secs, counts.non_2xx().c_str(), completed, total_secs,
               drained ? "" : " (drain timed out)", tasks_per_sec);
  if (!counts.sample_error.empty())
    std::fprintf(stderr, "e2e: first refusal: %s\n", counts.sample_error.c_str());
  std::fprintf(stderr,
               "e2e: submit-to-completion over %zu tasks: p50 %.0f ms, p99 %.0f ms, max %.0f ms; "
               "POST answered p50 %.2f ms, p99 %.2f ms\n",
               lat.size(), percentile(lat, 50), percentile(lat, 99), lat.empty() ? 0.0 : lat.back(),
               percentile(post_ms, 50), percentile(post_ms, 99));
  std::printf("result accepted=%" PRIu64 " completed=%" PRId64 " not_completed=%" PRIu64
              " non_2xx=%" PRIu64 " statuses=%s drained=%d submit_secs=%.3f total_secs=%.3f"
              " tasks_per_sec=%.0f submit_per_sec=%.0f lat_n=%zu lat_p50_ms=%.0f"
              " lat_p99_ms=%.0f lat_max_ms=%.0f post_p50_ms=%.2f post_p99_ms=%.2f\n",
              accepted, completed, not_completed, counts.not_ok(), counts.non_2xx().c_str(),
              drained ? 1 : 0, submit_secs, total_secs, tasks_per_sec,
              static_cast<double>(accepted) / submit_secs, lat.size(), percentile(lat, 50),
              percentile(lat, 99), lat.empty() ? 0.0 : lat.back(), percentile(post_ms, 50),
              percentile(post_ms, 99));
  return drained && counts.not_ok() == 0 ? 0 : 1;
}

void usage() {
  std::fprintf(stderr,
               "usage: hive_e2e_client [--host 127.0.0.1] --port N COMMAND [--key value ...]\n"
               "  agents --count N [--connections 32] [--max-concurrency 4] [--prefix idle-agent]\n"
               "  fill   --count N [--batch 500] [--connections 4]\n"
               "  e2e    [--seconds 10] [--connections 32] [--batch 1] [--rate 0] [--agents 8]\n"
               "         [--agent-concurrency 256] [--drain-secs 60] [--type echo|nlp.analyze|any]\n"
               "  one    [--type echo] [--payload '{}'] [--agents 2]  (one task, timed to its end)\n");
}

// -- one: a single task, timed until it is finished (e.g. a script's fan-out) --------

int run_one(const target& t, const options& o) {
  auto type = o.str("type", "echo");
  auto payload = o.str("payload", "{}");
  auto agents = static_cast<int>(o.num("agents", 2));
  auto agent_conc = static_cast<unsigned>(o.num("agent-concurrency", 256));
  blocking_client ctl{t.host, t.port};
  unsigned status = 0;
  std::string body, error;
  for (int i = 0; i < agents; ++i)
    if (!ctl.request("POST", "/api/agents", agent_body("one-agent-" + std::to_string(i), agent_conc),
                     status, body, error)
        || status != 201) {
      std::fprintf(stderr, "one: creating an agent failed: %s %s\n", error.c_str(), body.c_str());
      return 1;
    }
  auto start = clock_type::now();
  if (!ctl.request("POST", "/api/tasks",
                   R"({"type":")" + type + R"(","timeout_ms":600000,"payload":)" + payload + "}",
                   status, body, error)
      || status != 201) {
    std::fprintf(stderr, "one: submitting failed (HTTP %u): %s %s\n", status, error.c_str(),
                 body.c_str());
    return 1;
  }
  auto id_at = body.find("\"id\":\"");
  auto id = body.substr(id_at + 6, body.find('"', id_at + 6) - id_at - 6);
  for (;;) {
    if (!ctl.request("GET", "/api/tasks/" + id, "", status, body, error)) {
      std::fprintf(stderr, "one: %s\n", error.c_str());
      return 1;
    }
    auto st_at = body.find("\"status\":\"");
    auto st = body.substr(st_at + 10, body.find('"', st_at + 10) - st_at - 10);
    if (st == "completed" || st == "failed" || st == "dead" || st == "cancelled") {
      std::printf("result status=%s seconds=%.3f\n", st.c_str(), seconds_since(start));
      if (st != "completed")
        std::fprintf(stderr, "one: %s\n", body.substr(0, 600).c_str());
      return st == "completed" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  }
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!o.parse(argc, argv)) {
    usage();
    return 2;
  }
  target t;
  t.host = o.str("host", "127.0.0.1");
  t.port = static_cast<uint16_t>(o.num("port", 0));
  t.host_header = t.host + ":" + std::to_string(t.port);
  if (t.port == 0) {
    usage();
    return 2;
  }
  if (o.command == "agents")
    return create_agents(t, o);
  if (o.command == "fill")
    return fill_tasks(t, o);
  if (o.command == "e2e")
    return run_e2e(t, o);
  if (o.command == "one")
    return run_one(t, o);
  usage();
  return 2;
}
