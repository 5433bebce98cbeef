// HTTP metrics: series are created on first use and cached by a small integer key, so a
// request costs one short lock and a hash lookup instead of a registry search.
#include "net/http_metrics.hpp"

#include <array>
#include <cassert>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace hive::net {
namespace {

constexpr std::array<std::string_view, 8> methods{"GET",    "HEAD",    "POST",  "PUT",
                                                  "PATCH",  "DELETE",  "OPTIONS", "other"};

size_t method_index(std::string_view method) noexcept {
  for (size_t i = 0; i + 1 < methods.size(); ++i)
    if (methods[i] == method)
      return i;
  return methods.size() - 1;
}

} // namespace

struct http_metrics::impl {
  struct cell {
    prometheus::Histogram* duration = nullptr;
  };

  impl(prometheus::Registry& reg, std::vector<std::string> names)
    : routes(std::move(names)),
      requests(prometheus::BuildCounter()
                 .Name("hive_http_requests_total")
                 .Help("HTTP requests answered, by route pattern, method and status.")
                 .Register(reg)),
      duration(prometheus::BuildHistogram()
                 .Name("hive_http_request_duration_seconds")
                 .Help("Time from the handler receiving a request to its response, by route "
                       "pattern and method.")
                 .Register(reg)),
      durations(routes.size() * methods.size(), nullptr) {}

  std::vector<std::string> routes;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;

  std::mutex mtx; ///< guards the two caches below
  std::vector<prometheus::Histogram*> durations; ///< by route * methods.size() + method
  std::unordered_map<uint32_t, prometheus::Counter*> counters; ///< by (route, method, status)
};

http_metrics::http_metrics(prometheus::Registry& registry, std::vector<std::string> routes)
  : impl_(std::make_unique<impl>(registry, std::move(routes))) {}

http_metrics::~http_metrics() = default;

void http_metrics::observe(size_t route, std::string_view method, unsigned status,
                           double seconds) {
  static const prometheus::Histogram::BucketBoundaries buckets{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    10};
  auto& m = *impl_;
  assert(route < m.routes.size());
  auto mi = method_index(method);
  if (status > 999)
    status = 999;
  auto key = static_cast<uint32_t>((route * methods.size() + mi) * 1000 + status);
  prometheus::Counter* counter = nullptr;
  prometheus::Histogram* histogram = nullptr;
  {
    std::lock_guard<std::mutex> guard{m.mtx};
    auto& slot = m.counters[key];
    if (slot == nullptr)
      slot = &m.requests.Add({{"route", m.routes[route]},
                              {"method", std::string{methods[mi]}},
                              {"status", std::to_string(status)}});
    counter = slot;
    auto& hist = m.durations[route * methods.size() + mi];
    if (hist == nullptr)
      hist = &m.duration.Add({{"route", m.routes[route]}, {"method", std::string{methods[mi]}}},
                             buckets);
    histogram = hist;
  }
  counter->Increment();
  histogram->Observe(seconds);
}

} // namespace hive::net
