// The benchmark HTTP client: response framing, blocking control requests and the epoll load loop.
#include "bench/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <charconv>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

namespace hive::bench {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
    auto y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
    if (x != y)
      return false;
  }
  return true;
}

std::string errno_text(const char* what) {
  return std::string{what} + ": " + std::strerror(errno);
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

} // namespace

std::string_view http_reply::header(std::string_view name) const {
  size_t pos = 0;
  while (pos < headers.size()) {
    auto end = headers.find("\r\n", pos);
    if (end == std::string_view::npos)
      end = headers.size();
    auto line = headers.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
      return value;
    }
    pos = end + 2;
  }
  return {};
}

int reply_parser::next(http_reply& out, std::string& error) {
  std::string_view all{buf_};
  auto head_end = all.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (all.size() > 64 * 1024) {
      error = "reply header larger than 64 KiB";
      return -1;
    }
    return 0;
  }
  auto head = all.substr(0, head_end);
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  // "HTTP/1.1 201 Created"
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
    error = "malformed status line '" + std::string{status_line.substr(0, 80)} + "'";
    return -1;
  }
  unsigned status = 0;
  auto code = status_line.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + code.size(), status).ec != std::errc{}) {
    error = "malformed status line '" + std::string{status_line.substr(0, 80)} + "'";
    return -1;
  }
  http_reply r;
  r.status = status;
  r.headers = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  if (!r.header("Transfer-Encoding").empty()) {
    error = "chunked replies are not supported by the benchmark client";
    return -1;
  }
  size_t length = 0;
  auto cl = r.header("Content-Length");
  if (!cl.empty() && std::from_chars(cl.data(), cl.data() + cl.size(), length).ec != std::errc{}) {
    error = "bad Content-Length '" + std::string{cl} + "'";
    return -1;
  }
  auto body_start = head_end + 4;
  if (all.size() < body_start + length)
    return 0;
  r.body = all.substr(body_start, length);
  reply_size_ = body_start + length;
  out = r;
  return 1;
}

void reply_parser::consume() {
  buf_.erase(0, reply_size_);
  reply_size_ = 0;
}

std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view host) {
  std::string req;
  req.reserve(160 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  if (!body.empty())
    req.append("\r\nContent-Type: application/json");
  if (!body.empty() || method == "POST" || method == "PATCH")
    req.append("\r\nContent-Length: ").append(std::to_string(body.size()));
  req.append("\r\n\r\n").append(body);
  return req;
}

int connect_to(const std::string& host, uint16_t port, std::string& error) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    error = "not a numeric IPv4 address: " + host;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket");
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = errno_text("connect");
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// -- blocking_client --------------------------------------------------------------

blocking_client::~blocking_client() {
  if (fd_ >= 0)
    close(fd_);
}

bool blocking_client::request(std::string_view method, std::string_view target,
                              std::string_view body, unsigned& status, std::string& body_out,
                              std::string& error, std::string* headers_out,
                              std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  // One retry covers a keep-alive connection that the server closed while we were idle.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) {
      fd_ = connect_to(host_, port_, error);
      if (fd_ < 0)
        return false;
      parser_ = reply_parser{};
    }
    auto req = make_request(method, target, body, host_);
    size_t off = 0;
    bool broken = false;
    while (off < req.size()) {
      auto n = send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        broken = true;
        break;
      }
      off += static_cast<size_t>(n);
    }
    while (!broken) {
      http_reply r;
      auto got = parser_.next(r, error);
      if (got < 0)
        return false;
      if (got == 1) {
        status = r.status;
        body_out.assign(r.body);
        if (headers_out != nullptr)
          headers_out->assign(r.headers);
        parser_.consume();
        return true;
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left.count() <= 0) {
        error = "no reply to " + std::string{method} + " " + std::string{target} + " in time";
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char buf[65536];
      auto n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        broken = true;
        break;
      }
      parser_.feed(buf, static_cast<size_t>(n));
    }
    close(fd_);
    fd_ = -1;
  }
  error =
      "the server closed the connection during " + std::string{method} + " " + std::string{target};
  return false;
}

// -- run_load ---------------------------------------------------------------------

namespace {

struct connection {
  int fd = -1;
  std::string out;
  size_t out_off = 0;
  reply_parser parser;
  bool busy = false;
  bool finished = false;
  clock_type::time_point sent;
};

/// Writes what is pending; false on a broken connection.
bool flush(connection& c) {
  while (c.out_off < c.out.size()) {
    auto n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    if (n <= 0)
      return false;
    c.out_off += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

bool run_load(const std::string& host, uint16_t port, size_t connections,
              const request_source& source, const reply_sink& sink, clock_type::time_point deadline,
              std::string& error) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    error = errno_text("epoll_create1");
    return false;
  }
  std::vector<connection> conns(connections);
  auto cleanup = [&] {
    for (auto& c : conns)
      if (c.fd >= 0)
        close(c.fd);
    close(ep);
  };
  for (size_t i = 0; i < connections; ++i) {
    conns[i].fd = connect_to(host, port, error);
    if (conns[i].fd < 0) {
      cleanup();
      return false;
    }
    set_nonblocking(conns[i].fd);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  std::vector<epoll_event> events(connections);
  size_t open = connections;
  std::string request;
  while (open > 0) {
    bool waiting = false;
    for (size_t i = 0; i < connections; ++i) {
      auto& c = conns[i];
      if (c.busy || c.finished)
        continue;
      request.clear();
      auto step = source(i, request);
      if (step == next_step::finish) {
        c.finished = true;
        close(c.fd);
        c.fd = -1;
        --open;
        continue;
      }
      if (step == next_step::wait) {
        waiting = true;
        continue;
      }
      c.out.swap(request);
      c.out_off = 0;
      c.busy = true;
      c.sent = clock_type::now();
      if (!flush(c)) {
        error = errno_text("send");
        cleanup();
        return false;
      }
    }
    if (open == 0)
      break;
    auto now = clock_type::now();
    if (now >= deadline) {
      error = "the load did not finish before its deadline";
      cleanup();
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int timeout = waiting ? 1 : static_cast<int>(std::min<long long>(left + 1, 1000));
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0 && errno != EINTR) {
      error = errno_text("epoll_wait");
      cleanup();
      return false;
    }
    for (int k = 0; k < n; ++k) {
      auto& c = conns[events[k].data.u64];
      if (c.fd < 0)
        continue;
      if ((events[k].events & EPOLLOUT) && !flush(c)) {
        error = errno_text("send");
        cleanup();
        return false;
      }
      char buf[65536];
      bool eof = false;
      for (;;) {
        auto got = recv(c.fd, buf, sizeof(buf), 0);
        if (got > 0) {
          c.parser.feed(buf, static_cast<size_t>(got));
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
          eof = true;
        if (got < 0 && errno == EINTR)
          continue;
        break;
      }
      http_reply r;
      int parsed = 0;
      while ((parsed = c.parser.next(r, error)) == 1) {
        if (!c.busy) {
          error = "a reply arrived with no request in flight";
          cleanup();
          return false;
        }
        c.busy = false;
        sink(events[k].data.u64, r, c.sent);
        c.parser.consume();
      }
      if (parsed < 0) {
        cleanup();
        return false;
      }
      if (eof) {
        error = "the server closed a connection"
                + std::string{c.busy ? " with a request in flight" : ""};
        cleanup();
        return false;
      }
    }
  }
  cleanup();
  return true;
}

int64_t finished_tasks(blocking_client& ctl, int64_t& completed) {
  unsigned status = 0;
  std::string body, error;
  if (!ctl.request("GET", "/api/hive/status", "", status, body, error) || status != 200) {
    std::fprintf(stderr, "status poll failed: %s (HTTP %u)\n", error.c_str(), status);
    return -1;
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.IsObject() || !doc.HasMember("tasks") || !doc["tasks"].HasMember("by_status"))
    return -1;
  const auto& by = doc["tasks"]["by_status"];
  auto get = [&](const char* key) -> int64_t {
    return by.HasMember(key) && by[key].IsUint64() ? static_cast<int64_t>(by[key].GetUint64()) : 0;
  };
  completed = get("completed");
  return completed + get("failed") + get("dead") + get("cancelled");
}

void status_counts::add(const http_reply& r) {
  ++by_status[r.status];
  if ((r.status < 200 || r.status > 299) && sample_error.empty())
    sample_error = std::string{r.body.substr(0, 200)};
}

uint64_t status_counts::ok() const {
  uint64_t n = 0;
  for (auto [code, count] : by_status)
    if (code >= 200 && code <= 299)
      n += count;
  return n;
}

uint64_t status_counts::not_ok() const {
  uint64_t n = 0;
  for (auto [code, count] : by_status)
    if (code < 200 || code > 299)
      n += count;
  return n;
}

std::string status_counts::non_2xx() const {
  std::string out;
  for (auto [code, count] : by_status)
    if (code < 200 || code > 299)
      out += (out.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(count);
  return out.empty() ? "none" : out;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Nearest-rank percentile of sorted values; 0 when there are none.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.5);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

namespace {

/// "2024-05-01T12:00:00.123Z" as milliseconds since the epoch; -1 when it is not that.
int64_t parse_time(const rapidjson::Value& v) {
  if (!v.IsString())
    return -1;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (std::sscanf(v.GetString(), "%d-%d-%dT%d:%d:%d.%dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
    return -1;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

} // namespace

bool read_latencies(blocking_client& ctl, std::vector<double>& out, uint64_t& failed) {
  out.clear();
  failed = 0;
  std::string after;
  for (int page = 0; page < 100000; ++page) {
    std::string path = "/api/tasks?limit=1000" + (after.empty() ? "" : "&after=" + after);
    unsigned status = 0;
    std::string body, error;
    if (!ctl.request("GET", path, "", status, body, error) || status != 200) {
      std::fprintf(stderr, "e2e: read-back failed: %s (HTTP %u)\n", error.c_str(), status);
      return false;
    }
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (!doc.IsArray())
      return false;
    for (const auto& task : doc.GetArray()) {
      if (!task.HasMember("status") || !task["status"].IsString())
        continue;
      if (std::string_view{task["status"].GetString()} != "completed") {
        ++failed;
        continue;
      }
      auto created = parse_time(task["created_at"]);
      auto finished = parse_time(task["finished_at"]);
      if (created >= 0 && finished >= 0)
        out.push_back(static_cast<double>(finished - created));
    }
    if (doc.Size() < 1000)
      return true;
    after = doc[doc.Size() - 1]["id"].GetString();
  }
  return true;
}

bool read_all_latencies(blocking_client& ctl, int64_t completed, std::vector<double>& out,
                        uint64_t& failed) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (!read_latencies(ctl, out, failed))
      return false;
    if (out.size() >= static_cast<size_t>(completed))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return true;
}

} // namespace hive::bench
