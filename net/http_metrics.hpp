// HTTP request metrics: hive_http_requests_total and hive_http_request_duration_seconds.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hive::net {

/// Counts answered requests by route pattern, method and status, and times them by route and
/// method. Labels are bounded: routes are the patterns given here (never raw paths) and methods
/// other than the standard ones count as "other". Thread-safe (I/O and actor threads call it).
class http_metrics {
public:
  /// `routes` are the label values of the route patterns, referred to by index in `observe`.
  /// `registry` must outlive this object.
  http_metrics(prometheus::Registry& registry, std::vector<std::string> routes);
  ~http_metrics();

  http_metrics(const http_metrics&) = delete;
  http_metrics& operator=(const http_metrics&) = delete;

  /// One answered request: `route` < routes.size(), `seconds` from handler entry to response.
  void observe(size_t route, std::string_view method, unsigned status, double seconds);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace hive::net
