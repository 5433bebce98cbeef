// The engine: starts the core (recovery, scheduler) and forwards API calls as actor messages.
#include "actors/engine.hpp"

#include <algorithm>
#include <future>

#include <caf/all.hpp>

#include "actors/internal/monitor_actor.hpp"
#include "actors/learned_scorer.hpp"
#include "actors/neural_library.hpp"
#include "inference/batch_eval.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler.hpp"
#include "runtime/config.hpp"
#include "runtime/log.hpp"

namespace hive::actors {

struct engine::impl {
  caf::actor_system* sys = nullptr;
  context_ptr ctx;
  caf::actor scheduler;
  std::shared_ptr<monitor> mon;
  caf::actor monitor_actor;
  bool stopped = false;

  template <class Msg>
  void tell(Msg&& msg) {
    caf::anon_send(scheduler, std::forward<Msg>(msg));
  }

  /// Runs a store read on the read pool and answers through `done`.
  template <class T, class F>
  void read(callback<T> done, F fn) {
    auto db = ctx->db;
    bool posted = ctx->reads->post([db, done, fn]() mutable { done(fn(*db)); });
    if (!posted)
      done(make_error(errc::shutting_down, "the server is shutting down"));
  }
};

namespace {

core_settings settings_from(const runtime::config& cfg) {
  core_settings s;
  s.async_tasks_max = cfg.performance.async_tasks_max;
  s.max_agents = cfg.performance.max_agents;
  s.queue_max = cfg.tasks.queue_max;
  s.default_timeout_ms = cfg.tasks.default_timeout_ms;
  s.max_timeout_ms = cfg.tasks.max_timeout_ms;
  s.retry_base_ms = cfg.tasks.retry_base_ms;
  s.retry_max_ms = cfg.tasks.retry_max_ms;
  s.aging_ms = cfg.tasks.aging_ms;
  s.max_batch = cfg.tasks.max_batch;
  if (cfg.cluster.enabled)
    s.node_id = cfg.cluster.node_id;
  return s;
}

monitor_settings monitor_settings_from(const runtime::config& cfg) {
  monitor_settings s;
  s.interval_secs = cfg.metrics.history_interval_secs;
  s.retention = cfg.metrics.history_retention;
  s.queue_max = cfg.tasks.queue_max;
  const auto& p = cfg.performance;
  s.thresholds.cpu_warning = p.cpu_warning_threshold;
  s.thresholds.cpu_critical = p.cpu_critical_threshold;
  s.thresholds.memory_warning = p.memory_warning_threshold;
  s.thresholds.memory_critical = p.memory_critical_threshold;
  s.thresholds.queue_warning = p.queue_warning_threshold;
  s.thresholds.queue_critical = p.queue_critical_threshold;
  s.thresholds.failure_rate_warning = p.failure_rate_warning_threshold;
  s.thresholds.failure_rate_critical = p.failure_rate_critical_threshold;
  s.thresholds.hysteresis = p.alert_hysteresis;
  return s;
}

} // namespace

result<std::unique_ptr<engine>> engine::start(caf::actor_system& sys, const runtime::config& cfg,
                                              persistence::store& db,
                                              const executor_registry& executors) {
  auto ctx = std::make_shared<core_context>();
  ctx->settings = settings_from(cfg);
  ctx->db = &db;
  ctx->executors = &executors;
  ctx->retry = retry_policy{ctx->settings.retry_base_ms, ctx->settings.retry_max_ms};
  ctx->settings.routing_sample = cfg.neural.candidates;
  auto gpu = inference::probe_gpu();
  ctx->accelerator = gpu.usable ? gpu.description : "none (" + gpu.description + ")";
  if (cfg.neural.mode == "basic") {
    ctx->scorer = std::make_unique<heuristic_scorer>();
  } else {
    // fann; cuda or auto: the same network, scored on the GPU when one is usable.
    bool on_gpu = gpu_enabled(cfg.neural.mode);
    if (cfg.neural.mode != "fann" && !on_gpu)
      runtime::log_info("engine", "routing: no usable GPU (" + gpu.description
                                    + "): the CPU path is used");
    auto* pool = &ctx->blocking;
    learned_scorer_options opts;
    opts.retrain_every = cfg.neural.retrain_every;
    opts.epochs = cfg.neural.epochs;
    opts.learning_interval_secs = cfg.neural.learning_interval_secs;
    opts.min_training_gap_secs = cfg.neural.min_training_gap_ms / 1000.0;
    opts.store = &db;
    opts.gpu = on_gpu;
    opts.gpu_batch_min = cfg.neural.gpu_batch_min;
    auto* bus = &ctx->events;
    auto* clock = ctx->clock;
    auto learned = std::make_unique<learned_scorer>(
      [pool](std::function<void()> job) { (*pool)->post(std::move(job)); }, opts,
      [bus, clock](const learning_report& r) { // on the scheduler, while the context lives
        if (!bus->has_subscribers())
          return;
        hive_event ev;
        ev.type = event_type::learning_cycle_completed;
        ev.at = clock->now();
        ev.learning = std::make_shared<const learning_report>(r);
        bus->publish(ev);
      });
    // What earlier runs learned: the saved network and the outcomes behind it.
    auto restored = learned->restore(db);
    if (!restored)
      return std::move(restored).err();
    runtime::log_info("engine", "routing: " + std::to_string(*restored)
                                  + " stored outcomes loaded; "
                                  + (learned->trained() ? "saved network in use"
                                                        : "no saved network yet"));
    ctx->scorer = std::move(learned);
    ctx->routing_name = on_gpu ? "learned (FANN, GPU: " + gpu.description + ")"
                               : std::string{"learned (FANN, CPU)"};
    runtime::log_info("engine", "routing: " + ctx->routing_name);
  }
  ctx->blocking = std::make_unique<runtime::thread_pool>(
    std::max(2u, cfg.performance.worker_threads), "hive-exec");
  ctx->reads = std::make_unique<runtime::thread_pool>(2, "hive-read");
  ctx->writer = std::make_unique<persistence::write_behind>(
    db, cfg.database.commit_batch_max, persistence::write_behind::default_max_held,
    cfg.database.write_lanes != 0 ? cfg.database.write_lanes : db.concurrent_writers());
  ctx->activity = std::make_unique<task_activity>(ctx->now());

  // Recovery: everything the scheduler needs to resume where the last run stopped.
  recovered_state rec;
  auto agents = db.load_agents();
  if (!agents)
    return std::move(agents).err();
  rec.agents = std::move(*agents);
  auto unfinished = db.unfinished_tasks();
  if (!unfinished)
    return std::move(unfinished).err();
  rec.unfinished = std::move(*unfinished);
  auto counts = db.count_tasks();
  if (!counts)
    return std::move(counts).err();
  rec.counts = *counts;
  auto keys = db.idempotency_keys();
  if (!keys)
    return std::move(keys).err();
  rec.idempotency_keys = std::move(*keys);

  auto ptr = std::make_shared<impl>();
  ptr->sys = &sys;
  ptr->ctx = ctx;
  ptr->scheduler = spawn_scheduler(sys, ctx, std::move(rec));
  ptr->mon = std::make_shared<monitor>(monitor_settings_from(cfg));
  ptr->monitor_actor = spawn_monitor(sys, ptr->mon, ctx, ptr->scheduler);
  return std::unique_ptr<engine>{new engine(std::move(ptr))};
}

engine::engine(std::shared_ptr<impl> ptr) : impl_(std::move(ptr)) {}

const caf::actor& engine::scheduler() const noexcept {
  return impl_->scheduler;
}

engine::~engine() {
  if (!impl_->stopped)
    shutdown(std::chrono::milliseconds{0});
}

namespace {

/// Checks that every dependency names a stored task (committed tasks are stored before their
/// 201, so a task a client can name is there). Runs on the read pool.
result<unit_t> check_dependencies(persistence::store& db, const std::vector<task_record>& specs,
                                  bool batch) {
  for (size_t i = 0; i < specs.size(); ++i) {
    for (const auto& dep : specs[i].depends_on) {
      auto found = db.find_task(dep);
      if (!found)
        return std::move(found).err();
      if (!found->has_value())
        return make_error(errc::invalid_field, "depends_on names unknown task " + dep,
                          (batch ? "tasks[" + std::to_string(i) + "]." : std::string{})
                            + "depends_on");
    }
  }
  return unit;
}

/// Replays answer with the original task as it is now, read from the store.
void refresh_replays(persistence::store& db, std::vector<submit_outcome>& outcomes) {
  for (auto& out : outcomes) {
    if (!out.replayed)
      continue;
    if (auto found = db.find_task(out.task.id); found && found->has_value())
      out.task = std::move(**found);
  }
}

} // namespace

void engine::submit(task_record spec, callback<submit_outcome> done) {
  std::vector<task_record> specs;
  specs.push_back(std::move(spec));
  submit_batch_impl(std::move(specs), false,
                    [done](result<std::vector<submit_outcome>> res) {
                      if (!res)
                        done(std::move(res).err());
                      else
                        done(std::move(res->front()));
                    });
}

void engine::submit_batch(std::vector<task_record> specs,
                          callback<std::vector<submit_outcome>> done) {
  submit_batch_impl(std::move(specs), true, std::move(done));
}

void engine::submit_batch_impl(std::vector<task_record> specs, bool batch,
                               callback<std::vector<submit_outcome>> done) {
  auto self = impl_;
  // Answers that replay an earlier task need a store read: done on the read pool.
  callback<std::vector<submit_outcome>> reply = [self, done](auto res) mutable {
    bool replays = res && std::any_of(res->begin(), res->end(),
                                      [](const submit_outcome& o) { return o.replayed; });
    if (!replays) {
      done(std::move(res));
      return;
    }
    auto shared = std::make_shared<result<std::vector<submit_outcome>>>(std::move(res));
    self->read<std::vector<submit_outcome>>(done, [shared](persistence::store& db) {
      refresh_replays(db, **shared);
      return std::move(*shared);
    });
  };
  bool has_deps = std::any_of(specs.begin(), specs.end(),
                              [](const task_record& t) { return !t.depends_on.empty(); });
  // Cluster mode: another node may hold a key this node never saw (a client's retry reached
  // another node); look keys up first, so that such a submission is a replay rather than a
  // clash in the store.
  bool keys_elsewhere = !self->ctx->settings.node_id.empty()
                        && std::any_of(specs.begin(), specs.end(), [](const task_record& t) {
                             return !t.idempotency_key.empty();
                           });
  if (!has_deps && !keys_elsewhere) {
    self->tell(submit_msg{std::move(specs), batch, std::move(reply), {}});
    return;
  }
  auto shared = std::make_shared<std::vector<task_record>>(std::move(specs));
  auto db = self->ctx->db;
  bool posted = self->ctx->reads->post([self, db, shared, batch, reply]() mutable {
    if (auto ok = check_dependencies(*db, *shared, batch); !ok) {
      reply(std::move(ok).err());
      return;
    }
    std::vector<task_record> stored;
    if (!self->ctx->settings.node_id.empty())
      for (const auto& t : *shared)
        if (!t.idempotency_key.empty())
          if (auto found = db->find_task_by_key(t.idempotency_key); found && found->has_value())
            stored.push_back(std::move(**found));
    self->tell(submit_msg{std::move(*shared), batch, std::move(reply), std::move(stored)});
  });
  if (!posted)
    done(make_error(errc::shutting_down, "the server is shutting down"));
}

void engine::get_task(std::string id, callback<task_record> done) {
  impl_->read<task_record>(std::move(done), [id](persistence::store& db) -> result<task_record> {
    auto found = db.find_task(id);
    if (!found)
      return std::move(found).err();
    if (!found->has_value())
      return make_error(errc::not_found, "no task with id " + id, "id");
    return std::move(**found);
  });
}

void engine::list_tasks(persistence::task_filter filter,
                        callback<std::vector<task_record>> done) {
  impl_->read<std::vector<task_record>>(std::move(done), [filter](persistence::store& db) {
    return db.list_tasks(filter);
  });
}

void engine::task_events(std::string id, callback<std::vector<task_event>> done) {
  impl_->read<std::vector<task_event>>(
    std::move(done), [id](persistence::store& db) -> result<std::vector<task_event>> {
      auto found = db.find_task(id);
      if (!found)
        return std::move(found).err();
      if (!found->has_value())
        return make_error(errc::not_found, "no task with id " + id, "id");
      return db.task_events(id);
    });
}

bool engine::run_blocking(std::function<void()> fn) {
  return impl_->ctx->reads->post(std::move(fn));
}

void engine::list_objects(std::string kind,
                          callback<std::vector<persistence::stored_object>> done) {
  impl_->read<std::vector<persistence::stored_object>>(
    std::move(done), [kind](persistence::store& db) { return db.list_objects(kind); });
}

void engine::get_object(std::string kind, std::string name,
                        callback<persistence::stored_object> done) {
  impl_->read<persistence::stored_object>(
    std::move(done), [kind, name](persistence::store& db) -> result<persistence::stored_object> {
      auto found = db.find_object(kind, name);
      if (!found)
        return std::move(found).err();
      if (!found->has_value())
        return make_error(errc::not_found, "no " + kind + " named '" + name + "'", "name");
      return std::move(**found);
    });
}

void engine::put_object(persistence::stored_object object, callback<bool> done) {
  impl_->read<bool>(std::move(done), [object](persistence::store& db) -> result<bool> {
    auto found = db.find_object(object.kind, object.name);
    if (!found)
      return std::move(found).err();
    if (auto ok = db.put_object(object); !ok)
      return std::move(ok).err();
    return !found->has_value();
  });
}

void engine::delete_object(std::string kind, std::string name, callback<unit_t> done) {
  impl_->read<unit_t>(std::move(done),
                      [kind, name](persistence::store& db) -> result<unit_t> {
    auto gone = db.delete_object(kind, name);
    if (!gone)
      return std::move(gone).err();
    if (!*gone)
      return make_error(errc::not_found, "no " + kind + " named '" + name + "'", "name");
    return unit;
  });
}

void engine::cancel_task(std::string id, callback<task_record> done) {
  auto self = impl_;
  // The scheduler cancels unfinished tasks; for any other id the store tells 404 from 409.
  impl_->tell(cancel_msg{id, [self, id, done](result<task_record> res) {
                           if (res || res.err().code != errc::not_found) {
                             done(std::move(res));
                             return;
                           }
                           self->read<task_record>(
                             done, [id](persistence::store& db) -> result<task_record> {
                               auto found = db.find_task(id);
                               if (!found)
                                 return std::move(found).err();
                               if (!found->has_value())
                                 return make_error(errc::not_found, "no task with id " + id,
                                                   "id");
                               return make_error(errc::illegal_state,
                                                 "task is already "
                                                   + std::string{to_string((*found)->status)});
                             });
                         }});
}

void engine::retry_task(std::string id, callback<task_record> done) {
  auto self = impl_;
  // Read the stored record on the read pool; the scheduler decides with it.
  bool posted = self->ctx->reads->post([self, id, done] {
    auto found = self->ctx->db->find_task(id);
    if (!found) {
      done(std::move(found).err());
      return;
    }
    if (!found->has_value()) {
      done(make_error(errc::not_found, "no task with id " + id, "id"));
      return;
    }
    // Cluster mode: a finished task may have been another node's; it becomes this node's now
    // (false: it is not finished, so the scheduler refuses the retry below).
    if (is_terminal((*found)->status)) {
      auto taken = self->ctx->db->take_finished_task(id);
      if (!taken) {
        done(std::move(taken).err());
        return;
      }
      if (!*taken)
        (*found)->status = task_status::running; // retried elsewhere meanwhile
    }
    self->tell(retry_msg{id, std::move(**found), done});
  });
  if (!posted)
    done(make_error(errc::shutting_down, "the server is shutting down"));
}

void engine::create_agent(agent_record spec, callback<agent_record> done) {
  impl_->tell(agent_create_msg{std::move(spec), std::move(done)});
}

void engine::get_agent(std::string id, callback<agent_record> done) {
  impl_->tell(agent_get_msg{std::move(id), std::move(done)});
}

void engine::list_agents(agent_query query, callback<std::vector<agent_record>> done) {
  impl_->tell(agent_list_msg{std::move(query), std::move(done)});
}

void engine::update_agent(std::string id, agent_patch patch, callback<agent_record> done) {
  impl_->tell(agent_update_msg{std::move(id), std::move(patch), std::move(done)});
}

void engine::delete_agent(std::string id, callback<unit_t> done) {
  impl_->tell(agent_delete_msg{std::move(id), std::move(done)});
}

void engine::status(callback<hive_status> done) {
  // The scheduler knows agents and tasks; the monitor adds resources and alerts.
  impl_->tell(status_msg{[mon = impl_->mon, done](result<hive_status> st) {
    if (st) {
      st->resources = mon->last_resources();
      st->alerts = mon->active_alerts();
    }
    done(std::move(st));
  }});
}

std::vector<metrics_snapshot> engine::metrics_history(timestamp_ms since) const {
  return impl_->mon->history(since);
}

const monitor_settings& engine::monitor_config() const noexcept {
  return impl_->mon->settings();
}

std::vector<alert> engine::active_alerts() const {
  return impl_->mon->active_alerts();
}

std::vector<alert> engine::recent_alerts() const {
  return impl_->mon->recent_alerts();
}

void engine::set_resource_probe(std::function<runtime::resource_reading()> probe) {
  impl_->mon->set_probe(std::move(probe));
}

void engine::ready(callback<unit_t> done) {
  impl_->read<unit_t>(std::move(done), [](persistence::store& db) { return db.ping(); });
}

event_bus& engine::events() noexcept {
  return impl_->ctx->events;
}

void engine::set_commit_observer(std::function<void(size_t items, double seconds, bool ok)> fn) {
  impl_->ctx->writer->set_commit_observer(std::move(fn));
}

persistence::write_behind_stats engine::writer_stats() const {
  return impl_->ctx->writer->stats();
}

size_t engine::write_lanes() const noexcept {
  return impl_->ctx->writer->lanes();
}

const executor_registry& engine::executors() const noexcept {
  return *impl_->ctx->executors;
}

void engine::shutdown(std::chrono::milliseconds grace) {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  auto& ctx = *impl_->ctx;
  // 1. Stop dispatching and wait (bounded) for running tasks to finish.
  auto drained = std::make_shared<std::promise<void>>();
  auto done = drained->get_future();
  impl_->tell(drain_msg{ctx.now() + grace.count(), [drained](result<unit_t>) {
                          drained->set_value();
                        }});
  if (done.wait_for(grace + std::chrono::seconds{5}) != std::future_status::ready)
    runtime::log_warn("engine", "scheduler did not drain in time");
  // 2. Stop the actors; tasks still running stay `running` in the store and are re-queued
  //    at the next start.
  caf::anon_send(impl_->monitor_actor, stop_atom::value);
  impl_->monitor_actor = nullptr;
  caf::anon_send(impl_->scheduler, stop_atom::value);
  impl_->scheduler = nullptr;
  // 3. Flush every state change that was enqueued.
  ctx.reads->stop();
  ctx.writer->flush();
}

} // namespace hive::actors
