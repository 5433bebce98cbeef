// Tests of the HTTP server: a real server on port 0, driven by the test client.
#include "net/http_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "net/error_mapping.hpp"
#include "net/internal/target.hpp"
#include "tests/support/http_client.hpp"

namespace hive::net {
namespace {

/// The server's own error bodies: {"error":{"code","message","field","request_id"}}.
void expect_error_body(const std::string& body, const char* code, const char* message) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << body;
  EXPECT_STREQ(d["error"]["code"].GetString(), code) << body;
  EXPECT_STREQ(d["error"]["message"].GetString(), message) << body;
  EXPECT_TRUE(d["error"]["request_id"].IsString()) << body;
}

} // namespace

namespace {

using namespace std::chrono_literals;
using test::http_client;
using test::http_reply;
using steady = std::chrono::steady_clock;

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

http_response make_response(unsigned status, std::string body, std::string content_type = "text/plain",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  r.headers = std::move(headers);
  return r;
}

/// What /echo answers: the request as the handler saw it (the request id is left out).
std::string echo_json(const http_request& r) {
  std::string query = "[";
  for (const auto& [key, value] : r.query)
    query += (query.size() > 1 ? ",[" : "[") + json_string(key) + "," + json_string(value) + "]";
  query += "]";
  return "{\"method\":" + json_string(r.method) + ",\"path\":" + json_string(r.path) +
         ",\"query\":" + query + ",\"content_type\":" + json_string(r.content_type) +
         ",\"idempotency_key\":" + json_string(r.idempotency_key) + ",\"body\":" + json_string(r.body) +
         "}";
}

/// Runs callbacks on its own thread after a delay: stands in for an actor that answers later.
class delayed_runner {
public:
  delayed_runner() : thread_([this] { loop(); }) {}

  ~delayed_runner() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void after(std::chrono::milliseconds delay, std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.emplace(steady::now() + delay, std::move(job));
    }
    cv_.notify_all();
  }

private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      if (jobs_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto due = jobs_.begin()->first;
      if (steady::now() < due) {
        cv_.wait_until(lock, due);
        continue;
      }
      auto job = std::move(jobs_.begin()->second);
      jobs_.erase(jobs_.begin());
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::multimap<steady::time_point, std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_; // last: starts after the members above exist
};

template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within = 5s) {
  auto deadline = steady::now() + within;
  while (!done()) {
    if (steady::now() > deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class HttpServerTest : public ::testing::Test {
protected:
  void start(http_server_options opts = {}) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    auto started = http_server::start(
      opts, [this](http_request&& request, responder respond) {
        handle(std::move(request), std::move(respond));
      });
    ASSERT_TRUE(started.ok()) << started.err().message;
    server_ = std::move(started).value();
  }

  uint16_t port() const { return server_->port(); }

  /// Routes: /echo..., /delay?ms=N (answers from another thread after N ms), /thread (from
  /// another thread at once), /never (keeps the responder), /throw, /twice, /custom, /size
  /// (the body's length), /id (the request id).
  void handle(http_request&& request, responder respond) {
    const std::string& path = request.path;
    if (path.rfind("/echo", 0) == 0) {
      respond(make_response(200, echo_json(request), "application/json"));
    } else if (path == "/delay") {
      const std::string* ms = request.query_param("ms");
      runner_.after(std::chrono::milliseconds(ms ? std::stoi(*ms) : 0),
                    [respond, body = echo_json(request)] { respond(make_response(200, body, "application/json")); });
    } else if (path == "/thread") {
      auto caller = std::this_thread::get_id();
      runner_.after(0ms, [respond, caller] {
        respond(make_response(200, caller == std::this_thread::get_id() ? "same thread" : "other thread"));
      });
    } else if (path == "/never") {
      std::lock_guard<std::mutex> lock(stash_mutex_);
      stashed_.push_back(std::move(respond));
    } else if (path == "/throw") {
      throw std::runtime_error("handler bug");
    } else if (path == "/twice") {
      respond(make_response(200, "first"));
      respond(make_response(201, "second"));
    } else if (path == "/custom") {
      respond(make_response(201, "hi", "text/plain", {{"X-Custom", "yes"}}));
    } else if (path == "/size") {
      respond(make_response(200, std::to_string(request.body.size())));
    } else if (path == "/id") {
      respond(make_response(200, request.request_id));
    } else {
      respond(error_response(hive::make_error(hive::errc::not_found, "no route"), "test"));
    }
  }

  std::size_t stashed_count() {
    std::lock_guard<std::mutex> lock(stash_mutex_);
    return stashed_.size();
  }

  // Destroyed in reverse order: the server first, then pending jobs, then kept responders.
  std::mutex stash_mutex_;
  std::vector<responder> stashed_;
  delayed_runner runner_;
  std::unique_ptr<http_server> server_;
};

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  start();
  http_client client("127.0.0.1", port());
  for (int i = 0; i < 100; ++i) {
    auto reply = client.request("GET", "/echo?i=" + std::to_string(i));
    ASSERT_EQ(reply.status, 200u) << reply.error;
    EXPECT_NE(reply.body.find("[\"i\",\"" + std::to_string(i) + "\"]"), std::string::npos);
  }
  EXPECT_EQ(client.connects(), 1u);
  auto stats = server_->stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.connections_open, 1u);
  EXPECT_EQ(stats.requests, 100u);
}

TEST_F(HttpServerTest, ResponseCarriesServerHeadersAndHandlerHeaders) {
  start();
  http_client client("127.0.0.1", port());
  auto reply = client.request("GET", "/custom");
  ASSERT_EQ(reply.status, 201u) << reply.error;
  EXPECT_EQ(reply.body, "hi");
  EXPECT_EQ(reply.header("server"), "hive");
  EXPECT_EQ(reply.header("content-type"), "text/plain");
  EXPECT_EQ(reply.header("content-length"), "2");
  EXPECT_EQ(reply.header("x-custom"), "yes");
  EXPECT_FALSE(reply.header("x-request-id").empty());
}

TEST_F(HttpServerTest, HeadGetsTheLengthButNoBody) {
  start();
  http_client client("127.0.0.1", port());
  auto head = client.request("HEAD", "/custom");
  ASSERT_EQ(head.status, 201u) << head.error;
  EXPECT_EQ(head.header("content-length"), "2");
  EXPECT_EQ(head.body, "");
  // Had a body been sent, it would be read as the start of the next response.
  auto get = client.request("GET", "/custom");
  ASSERT_EQ(get.status, 201u) << get.error;
  EXPECT_EQ(get.body, "hi");
  EXPECT_EQ(client.connects(), 1u);
}

TEST_F(HttpServerTest, LargeBodyUnderTheLimitArrivesWhole) {
  start(); // 1 MiB limit
  http_client client("127.0.0.1", port());
  std::string body(900 * 1024, 'x');
  auto reply = client.request("POST", "/size", body);
  ASSERT_EQ(reply.status, 200u) << reply.error;
  EXPECT_EQ(reply.body, std::to_string(body.size()));
  EXPECT_EQ(client.request("POST", "/size", "abc").body, "3");
}

TEST_F(HttpServerTest, SeveralIoThreadsServeConcurrentClients) {
  http_server_options opts;
  opts.io_threads = 4;
  start(opts);
  constexpr int clients = 4;
  constexpr int per_client = 50;
  std::vector<std::thread> threads;
  std::vector<int> good(clients, 0);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([this, c, &good] {
      http_client client("127.0.0.1", port());
      for (int i = 0; i < per_client; ++i) {
        std::string tag = std::to_string(c) + "-" + std::to_string(i);
        auto reply = client.request("GET", (i % 2 ? "/delay?ms=0&t=" : "/echo?t=") + tag);
        if (reply.status == 200 && reply.body.find("\"" + tag + "\"") != std::string::npos)
          ++good[static_cast<std::size_t>(c)];
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (int c = 0; c < clients; ++c)
    EXPECT_EQ(good[static_cast<std::size_t>(c)], per_client) << "client " << c;
  EXPECT_EQ(server_->stats().requests, static_cast<uint64_t>(clients * per_client));
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  http_client client("127.0.0.1", port());
  // The first one is answered later, from another thread; the second one at once.
  ASSERT_TRUE(client.send_raw("GET /delay?ms=100&tag=first HTTP/1.1\r\nHost: t\r\n\r\n"
                              "GET /echo?tag=second HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = client.read_reply();
  auto second = client.read_reply();
  ASSERT_EQ(first.status, 200u) << first.error;
  ASSERT_EQ(second.status, 200u) << second.error;
  EXPECT_NE(first.body.find("\"first\""), std::string::npos) << first.body;
  EXPECT_NE(second.body.find("\"second\""), std::string::npos) << second.body;
  EXPECT_EQ(server_->stats().requests, 2u);
}

TEST_F(HttpServerTest, PathAndQueryAreDecoded) {
  start();
  http_client client("127.0.0.1", port());
  auto reply =
    client.request("GET", "/echo/a%20b/c+d?x=1&name=hello+world&e=%E2%82%AC&flag&&empty=&bad=%zz");
  ASSERT_EQ(reply.status, 200u) << reply.error;
  EXPECT_EQ(reply.body,
            R"({"method":"GET","path":"/echo/a b/c+d","query":[["x","1"],["name","hello world"],)"
            R"(["e","€"],["flag",""],["empty",""],["bad","%zz"]],"content_type":"",)"
            R"("idempotency_key":"","body":""})");
}

TEST_F(HttpServerTest, RequestFieldsReachTheHandler) {
  start();
  http_client client("127.0.0.1", port());
  auto reply = client.request("POST", "/echo", "{\"a\":1}",
                              {{"Content-Type", "application/json"},
                               {"Idempotency-Key", "key-1"},
                               {"X-Request-Id", "req-42"}});
  ASSERT_EQ(reply.status, 200u) << reply.error;
  EXPECT_EQ(reply.body, R"({"method":"POST","path":"/echo","query":[],)"
                        R"("content_type":"application/json","idempotency_key":"key-1",)"
                        R"("body":"{\"a\":1}"})");
  EXPECT_EQ(reply.header("x-request-id"), "req-42");
}

TEST_F(HttpServerTest, RequestIdsAreGeneratedWhenAbsent) {
  start();
  http_client client("127.0.0.1", port());
  auto one = client.request("GET", "/id");
  auto two = client.request("GET", "/id");
  ASSERT_EQ(one.status, 200u) << one.error;
  ASSERT_EQ(two.status, 200u) << two.error;
  EXPECT_FALSE(one.body.empty());
  EXPECT_NE(one.body, two.body);
  EXPECT_EQ(one.header("x-request-id"), one.body);
}

TEST_F(HttpServerTest, BodyOverTheLimitGets413AndTheConnectionCloses) {
  http_server_options opts;
  opts.max_body_bytes = 1024;
  start(opts);
  http_client client("127.0.0.1", port());
  auto at_limit = client.request("POST", "/echo", std::string(1024, 'a'));
  EXPECT_EQ(at_limit.status, 200u) << at_limit.error;

  auto over = client.request("POST", "/echo", std::string(2048, 'a'));
  ASSERT_EQ(over.status, 413u) << over.error;
  expect_error_body(over.body, "payload_too_large", "request body exceeds 1024 bytes");
  EXPECT_EQ(over.header("connection"), "close");
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  start();
  http_client client("127.0.0.1", port());
  ASSERT_TRUE(client.send_raw("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                              "Expect: 100-continue\r\n\r\n"));
  auto interim = client.read_reply(false);
  ASSERT_EQ(interim.status, 100u) << interim.error;
  ASSERT_TRUE(client.send_raw("hello"));
  auto reply = client.read_reply();
  ASSERT_EQ(reply.status, 200u) << reply.error;
  EXPECT_NE(reply.body.find("\"body\":\"hello\""), std::string::npos) << reply.body;
}

TEST_F(HttpServerTest, HandlerThatNeverAnswersGets408) {
  http_server_options opts;
  opts.request_timeout_secs = 1;
  start(opts);
  http_client client("127.0.0.1", port());
  auto sent = steady::now();
  auto reply = client.request("GET", "/never");
  auto waited = steady::now() - sent;
  ASSERT_EQ(reply.status, 408u) << reply.error;
  expect_error_body(reply.body, "request_timeout", "no response within 1 s");
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 3s);
  EXPECT_TRUE(client.wait_closed());

  // The late answer is dropped; the server keeps serving.
  ASSERT_EQ(stashed_count(), 1u);
  stashed_.front()(make_response(200, "too late"));
  http_client other("127.0.0.1", port());
  EXPECT_EQ(other.request("GET", "/echo").status, 200u);
}

TEST_F(HttpServerTest, RequestThatArrivesTooSlowlyGets408) {
  http_server_options opts;
  opts.request_timeout_secs = 1;
  start(opts);
  http_client client("127.0.0.1", port());
  ASSERT_TRUE(
    client.send_raw("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  auto reply = client.read_reply();
  ASSERT_EQ(reply.status, 408u) << reply.error;
  EXPECT_NE(reply.body.find("\"request_timeout\""), std::string::npos);
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedSilently) {
  http_server_options opts;
  opts.keep_alive_timeout_secs = 1;
  start(opts);
  http_client client("127.0.0.1", port());
  ASSERT_EQ(client.request("GET", "/echo").status, 200u);
  auto rest = client.read_until_closed(3s);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "");
  EXPECT_TRUE(eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, ConnectionOverTheLimitGets503) {
  http_server_options opts;
  opts.max_connections = 2;
  start(opts);
  http_client a("127.0.0.1", port());
  http_client b("127.0.0.1", port());
  ASSERT_EQ(a.request("GET", "/echo").status, 200u);
  ASSERT_EQ(b.request("GET", "/echo").status, 200u);

  http_client c("127.0.0.1", port());
  auto refused = c.request("GET", "/echo");
  ASSERT_EQ(refused.status, 503u) << refused.error;
  EXPECT_EQ(refused.header("retry-after"), "1");
  expect_error_body(refused.body, "too_many_connections", "too many connections");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(server_->stats().connections_refused, 1u);
  EXPECT_EQ(server_->stats().connections_open, 2u);

  // A freed slot is usable again.
  a.close();
  ASSERT_TRUE(eventually([&] { return server_->stats().connections_open == 1; }));
  http_client d("127.0.0.1", port());
  EXPECT_EQ(d.request("GET", "/echo").status, 200u);
}

TEST_F(HttpServerTest, ResponderWorksFromAnotherThread) {
  start();
  http_client a("127.0.0.1", port());
  http_client b("127.0.0.1", port());
  for (int i = 0; i < 20; ++i) {
    for (auto* client : {&a, &b}) {
      auto reply = client->request("GET", "/thread");
      ASSERT_EQ(reply.status, 200u) << reply.error;
      EXPECT_EQ(reply.body, "other thread");
    }
  }
  EXPECT_EQ(a.connects(), 1u);
  EXPECT_EQ(b.connects(), 1u);
}

TEST_F(HttpServerTest, SecondCallOfAResponderIsIgnored) {
  start();
  http_client client("127.0.0.1", port());
  auto reply = client.request("GET", "/twice");
  ASSERT_EQ(reply.status, 200u) << reply.error;
  EXPECT_EQ(reply.body, "first");
  auto next = client.request("GET", "/echo");
  EXPECT_EQ(next.status, 200u) << next.error;
  EXPECT_EQ(client.connects(), 1u);
}

TEST_F(HttpServerTest, HandlerExceptionGets500) {
  start();
  http_client client("127.0.0.1", port());
  auto reply = client.request("GET", "/throw");
  ASSERT_EQ(reply.status, 500u) << reply.error;
  EXPECT_NE(reply.body.find("\"internal\""), std::string::npos);
  EXPECT_EQ(client.request("GET", "/echo").status, 200u);
}

TEST_F(HttpServerTest, MalformedRequestGets400AndTheConnectionCloses) {
  start();
  http_client client("127.0.0.1", port());
  ASSERT_TRUE(client.send_raw("G(T / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto reply = client.read_reply();
  ASSERT_EQ(reply.status, 400u) << reply.error;
  EXPECT_NE(reply.body.find("\"code\":\"bad_request\""), std::string::npos) << reply.body;
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(HttpServerTest, Http10RequestWithoutKeepAliveIsClosedAfterTheResponse) {
  start();
  http_client client("127.0.0.1", port());
  ASSERT_TRUE(client.send_raw("GET /echo HTTP/1.0\r\n\r\n"));
  auto raw = client.read_until_closed();
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << *raw;
}

TEST_F(HttpServerTest, StopWithOpenConnectionsReturnsPromptly) {
  start(); // default timeouts: 75 s keep-alive, 30 s per request
  std::vector<std::unique_ptr<http_client>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<http_client>("127.0.0.1", port()));
    ASSERT_EQ(idle.back()->request("GET", "/echo").status, 200u);
  }
  http_client waiting("127.0.0.1", port());
  ASSERT_TRUE(waiting.send_raw("GET /never HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return stashed_count() == 1; }));

  auto begun = steady::now();
  server_->stop();
  EXPECT_LT(steady::now() - begun, 1s);
  server_->stop(); // a second call is harmless

  for (auto& client : idle)
    EXPECT_TRUE(client->wait_closed(2s));
  EXPECT_TRUE(waiting.wait_closed(2s));
  stashed_.front()(make_response(200, "after stop")); // dropped safely
}

TEST_F(HttpServerTest, StopAcceptingFinishesTheCurrentRequestThenCloses) {
  start();
  http_client busy("127.0.0.1", port());
  http_client idle("127.0.0.1", port());
  ASSERT_EQ(idle.request("GET", "/echo").status, 200u);
  ASSERT_TRUE(busy.send_raw("GET /delay?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return server_->stats().requests == 2; }));

  server_->stop_accepting();
  http_client late("127.0.0.1", port());
  EXPECT_FALSE(late.connect());

  auto reply = busy.read_reply();
  ASSERT_EQ(reply.status, 200u) << reply.error;
  EXPECT_EQ(reply.header("connection"), "close");
  EXPECT_TRUE(busy.wait_closed());
  EXPECT_TRUE(idle.wait_closed());
}

TEST_F(HttpServerTest, BindingAPortInUseFailsClearly) {
  start();
  http_server_options opts;
  opts.host = "127.0.0.1";
  opts.port = port();
  auto second = http_server::start(opts, [](http_request&&, responder) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.err().code, errc::invalid_field);
  EXPECT_EQ(second.err().field, "server.port");
  EXPECT_NE(second.err().message.find("127.0.0.1:" + std::to_string(port())), std::string::npos)
    << second.err().message;
  EXPECT_NE(second.err().message.find("in use"), std::string::npos) << second.err().message;
}

TEST_F(HttpServerTest, AnAddressThatIsNotLocalFailsClearly) {
  http_server_options opts;
  opts.host = "203.0.113.7"; // TEST-NET-3: never assigned to this machine
  opts.port = 0;
  auto started = http_server::start(opts, [](http_request&&, responder) {});
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.err().code, errc::invalid_field);
  EXPECT_EQ(started.err().field, "server.host");
  EXPECT_NE(started.err().message.find("203.0.113.7"), std::string::npos);
}

TEST_F(HttpServerTest, AnUnresolvableHostFailsClearly) {
  http_server_options opts;
  opts.host = "no such host";
  opts.port = 0;
  auto started = http_server::start(opts, [](http_request&&, responder) {});
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.err().field, "server.host");
  EXPECT_NE(started.err().message.find("no such host"), std::string::npos);
}

TEST(TargetTest, PercentDecodingIsLenient) {
  EXPECT_EQ(internal::percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(internal::percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(internal::percent_decode("100%", true), "100%");
  EXPECT_EQ(internal::percent_decode("%4", true), "%4");
  EXPECT_EQ(internal::percent_decode("%G1%41", true), "%G1A");
}

TEST(TargetTest, SplitTargetSeparatesPathAndQuery) {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  internal::split_target("/a%2Fb?k=v%26w&k=2#frag", path, query);
  EXPECT_EQ(path, "/a/b");
  ASSERT_EQ(query.size(), 2u);
  EXPECT_EQ(query[0], (std::pair<std::string, std::string>("k", "v&w")));
  EXPECT_EQ(query[1], (std::pair<std::string, std::string>("k", "2")));

  internal::split_target("/plain", path, query);
  EXPECT_EQ(path, "/plain");
  EXPECT_TRUE(query.empty());
}

TEST(TargetTest, QueryParamFindsTheFirstValue) {
  http_request request;
  request.query = {{"a", "1"}, {"a", "2"}};
  ASSERT_NE(request.query_param("a"), nullptr);
  EXPECT_EQ(*request.query_param("a"), "1");
  EXPECT_EQ(request.query_param("b"), nullptr);
}

} // namespace
} // namespace hive::net
