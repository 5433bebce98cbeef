// Store commit metrics: counters and histograms updated on the writer thread.
#include "actors/store_metrics.hpp"

#include <mutex>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace hive::actors {

struct store_metrics::impl {
  explicit impl(prometheus::Registry& reg)
    : commits(prometheus::BuildCounter()
                .Name("hive_store_commits_total")
                .Help("Store transactions committed by the write-behind writer.")
                .Register(reg)
                .Add({})),
      failures(prometheus::BuildCounter()
                 .Name("hive_store_commit_failures_total")
                 .Help("Store transactions that failed (their writes were refused or retried).")
                 .Register(reg)
                 .Add({})),
      batch_size(prometheus::BuildHistogram()
                   .Name("hive_store_commit_batch_size")
                   .Help("Rows written per store transaction (task, event and agent rows).")
                   .Register(reg)
                   .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                    256, 512, 1024, 2048, 4096})),
      seconds(prometheus::BuildHistogram()
                .Name("hive_store_commit_seconds")
                .Help("Time to apply and commit one store transaction.")
                .Register(reg)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001,
                                                                 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1, 0.25, 0.5, 1, 2.5})),
      held(prometheus::BuildGauge()
             .Name("hive_store_held_rows")
             .Help("Rows of state changes held while the store is unreachable, waiting to be "
                   "written (refreshed at scrape).")
             .Register(reg)
             .Add({})),
      given_up(prometheus::BuildCounter()
                 .Name("hive_store_given_up_total")
                 .Help("State changes given up: refused by the store, or beyond the hold limit "
                       "during an outage (refreshed at scrape).")
                 .Register(reg)
                 .Add({})),
      lanes(prometheus::BuildGauge()
              .Name("hive_store_write_lanes")
              .Help("Group-commit writers, each with a transaction in flight.")
              .Register(reg)
              .Add({})) {}

  void record(size_t items, double took, bool ok) {
    (ok ? commits : failures).Increment();
    batch_size.Observe(static_cast<double>(items));
    seconds.Observe(took);
  }

  prometheus::Counter& commits;
  prometheus::Counter& failures;
  prometheus::Histogram& batch_size;
  prometheus::Histogram& seconds;
  prometheus::Gauge& held;
  prometheus::Counter& given_up;
  prometheus::Gauge& lanes;
  std::mutex given_up_mtx; ///< makes the read-then-increment of `given_up` one step
};

store_metrics::store_metrics(prometheus::Registry& registry)
  : impl_(std::make_shared<impl>(registry)) {}

store_metrics::~store_metrics() = default;

void store_metrics::on_commit(size_t items, double seconds, bool ok) {
  impl_->record(items, seconds, ok);
}

void store_metrics::update(uint64_t held_rows, uint64_t given_up, size_t lanes) {
  auto& m = *impl_;
  m.held.Set(static_cast<double>(held_rows));
  m.lanes.Set(static_cast<double>(lanes));
  std::lock_guard<std::mutex> guard{m.given_up_mtx};
  auto seen = m.given_up.Value();
  if (static_cast<double>(given_up) > seen)
    m.given_up.Increment(static_cast<double>(given_up) - seen);
}

std::function<void(size_t, double, bool)> store_metrics::observer() {
  return [state = impl_](size_t items, double seconds, bool ok) {
    state->record(items, seconds, ok);
  };
}

} // namespace hive::actors
