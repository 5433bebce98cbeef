// Scheduler actor: admits tasks, keeps the agent directory, routes queued tasks to agents.
#include "actors/scheduler.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/agent_actor.hpp"
#include "actors/agent_directory.hpp"
#include "actors/messages.hpp"
#include "actors/dispatch_queue.hpp"
#include "actors/task_actor.hpp"
#include "runtime/ids.hpp"
#include "runtime/log.hpp"
#include "runtime/memory.hpp"

namespace hive::actors {
namespace {

/// A task admitted and not yet terminal.
struct live_task {
  task_ptr task;
  caf::actor handle;          ///< empty while the task is dormant (no actor yet)
  task_status status;         ///< as far as the scheduler knows
  std::string cls;            ///< requirement class (see dispatch_queue)
  bool in_ready = false;      ///< waiting in the dispatch queue
  bool in_backlog = false;    ///< pending on dependencies, waiting for an actor slot
  std::string assigned_agent; ///< assigned and not yet released
  std::vector<caf::response_promise> dep_waiters;
};

/// A task waiting for an agent. Without a handle it is dormant: its actor is spawned only
/// when an agent is assigned (the bound on live task actors was reached when it arrived).
struct ready_entry {
  task_ptr task;
  caf::actor handle;
};

struct scheduler_state {
  context_ptr ctx;
  agent_directory agents;
  dispatch_queue<ready_entry> ready{5000};
  std::unordered_map<std::string, live_task> live;
  /// Tasks with dependencies that arrived while at the actor bound: they need an actor to wait.
  std::deque<task_ptr> backlog;
  size_t live_actors = 0;
  size_t admitting = 0; ///< submitted tasks whose commit is pending
  size_t running = 0;
  persistence::task_counts counts{}; ///< terminal counts from the store + live tracking
  std::unordered_map<std::string, std::string> keys;        ///< idempotency key -> task id
  std::unordered_map<std::string, task_record> pending_keys; ///< key -> task being committed
  std::unordered_set<std::string> dirty_agents;
  /// Dependencies (not live) whose status is being read from the store, with their askers.
  std::unordered_map<std::string, std::vector<caf::response_promise>> dep_lookups;
  uint64_t agent_restarts = 0;
  uint64_t activity = 0;         ///< counts messages that changed something
  uint64_t activity_seen = 0;    ///< at the previous tick
  uint64_t activity_trimmed = 0; ///< when memory was last given back
  timestamp_ms started_at = 0;
  bool draining = false;
  timestamp_ms drain_deadline = 0;
  callback<unit_t> drain_reply;

  static inline const char* name = "hive.scheduler";
};

using scheduler_actor = caf::stateful_actor<scheduler_state>;

// -- helpers ------------------------------------------------------------------

void set_status(scheduler_state& st, live_task& lt, task_status to) {
  --st.counts[static_cast<size_t>(lt.status)];
  ++st.counts[static_cast<size_t>(to)];
  lt.status = to;
}

void spawn_agent(scheduler_actor* self, agent_entry& entry) {
  entry.handle = spawn_agent_actor(self, self->state.ctx);
  self->monitor(entry.handle);
  if (entry.suspended)
    self->state.agents.set_suspended(entry, false);
}

/// Puts a task in the dispatch queue (it waits for an agent).
void enqueue_ready(scheduler_actor* self, live_task& lt, caf::actor handle) {
  auto& st = self->state;
  lt.in_ready = true;
  if (lt.status != task_status::queued)
    set_status(st, lt, task_status::queued);
  st.ready.push(lt.cls, lt.task->priority, st.ctx->now(), ready_entry{lt.task, std::move(handle)});
}

/// Gives an admitted task its actor, or, at the bound on live task actors, queues it dormant
/// (or parks it in the backlog when it must first wait for dependencies).
void materialize(scheduler_actor* self, task_ptr task) {
  auto& st = self->state;
  auto& lt = st.live[task->id];
  if (st.live_actors < st.ctx->settings.async_tasks_max) {
    lt.handle = spawn_task_actor(self, st.ctx, caf::actor_cast<caf::actor>(self), std::move(task));
    ++st.live_actors;
    return;
  }
  if (task->status == task_status::pending && !task->depends_on.empty()) {
    lt.in_backlog = true;
    st.backlog.push_back(std::move(task));
    return;
  }
  enqueue_ready(self, lt, nullptr);
}

/// Spawns actors for backlogged tasks while below the bound, oldest first.
void drain_backlog(scheduler_actor* self) {
  auto& st = self->state;
  while (!st.backlog.empty() && st.live_actors < st.ctx->settings.async_tasks_max) {
    auto task = std::move(st.backlog.front());
    st.backlog.pop_front();
    st.live[task->id].in_backlog = false;
    materialize(self, std::move(task));
  }
}

/// Assigns queued tasks to free agents until one of the two runs out.
void dispatch(scheduler_actor* self) {
  auto& st = self->state;
  if (st.draining)
    return;
  auto now = st.ctx->now();
  const auto& settings = st.ctx->settings;
  while (!st.ready.empty() && st.agents.any_available()) {
    bool assigned = st.ready.take_one(now, [&](ready_entry& e) {
      auto* agent = st.agents.select(*e.task, *st.ctx->scorer, settings.routing_sample);
      if (agent == nullptr)
        return false;
      st.agents.reserve(*agent, now);
      st.dirty_agents.insert(agent->record.id);
      auto& lt = st.live[e.task->id];
      lt.in_ready = false;
      lt.assigned_agent = agent->record.id;
      set_status(st, lt, task_status::running);
      ++st.running;
      assign_msg assignment{agent->record.id, agent->handle};
      if (e.handle) {
        self->send(e.handle, std::move(assignment));
      } else {
        // A dormant task gets its actor now, starting with the assignment.
        lt.handle = spawn_task_actor(self, st.ctx, caf::actor_cast<caf::actor>(self), e.task,
                                     std::move(assignment));
        ++st.live_actors;
      }
      return true;
    });
    if (!assigned)
      break;
  }
}

void release_agent(scheduler_state& st, const std::string& agent_id, bool success,
                   double latency_ms, bool counted) {
  if (st.running > 0)
    --st.running;
  if (auto* agent = st.agents.find(agent_id)) {
    st.agents.release(*agent, success, latency_ms, counted, st.ctx->now());
    st.dirty_agents.insert(agent_id);
  }
}

void flush_agents(scheduler_state& st) {
  if (st.dirty_agents.empty())
    return;
  persistence::write_batch batch;
  for (const auto& id : st.dirty_agents)
    if (auto* agent = st.agents.find(id))
      batch.agents.push_back(agent->record);
  st.dirty_agents.clear();
  if (!batch.empty())
    st.ctx->writer->enqueue(std::move(batch));
}

void check_drain(scheduler_actor* self) {
  auto& st = self->state;
  if (!st.draining || !st.drain_reply)
    return;
  if (st.running == 0 || st.ctx->now() >= st.drain_deadline) {
    flush_agents(st);
    auto reply = std::move(st.drain_reply);
    st.drain_reply = nullptr;
    reply(unit);
  }
}

/// Checks a submitted task against what the core knows; the codec checked its shape.
std::optional<error> validate(scheduler_actor* self, const task_record& spec,
                              const std::string& prefix) {
  auto& st = self->state;
  if (st.ctx->executors->find(spec.type) == nullptr) {
    std::string known;
    for (const auto& name : st.ctx->executors->names())
      known += (known.empty() ? "" : ", ") + name;
    return make_error(errc::unknown_task_type,
                      "unknown task type '" + spec.type + "'; known types: " + known,
                      prefix + "type");
  }
  if (spec.timeout_ms > st.ctx->settings.max_timeout_ms)
    return make_error(errc::invalid_field,
                      "timeout_ms must be at most "
                        + std::to_string(st.ctx->settings.max_timeout_ms),
                      prefix + "timeout_ms");
  // That dependencies exist was checked by the engine on its read pool (the store is never
  // read on this actor's thread).
  return std::nullopt;
}

// -- engine requests ------------------------------------------------------------

void on_submit(scheduler_actor* self, submit_msg& msg) {
  auto& st = self->state;
  if (st.draining) {
    msg.reply(make_error(errc::shutting_down, "the server is shutting down"));
    return;
  }
  for (size_t i = 0; i < msg.specs.size(); ++i) {
    auto prefix = msg.batch ? "tasks[" + std::to_string(i) + "]." : std::string{};
    if (auto err = validate(self, msg.specs[i], prefix)) {
      msg.reply(std::move(*err));
      return;
    }
  }
  auto now = st.ctx->now();
  std::vector<submit_outcome> outcomes;
  std::vector<task_ptr> fresh;
  persistence::write_batch batch;
  outcomes.reserve(msg.specs.size());
  for (auto& spec : msg.specs) {
    const std::string key = spec.idempotency_key; // a copy: spec is moved from below
    if (!key.empty()) {
      if (auto i = st.keys.find(key); i != st.keys.end()) {
        // Replay of a committed task: the engine reads its current record for the answer.
        task_record original;
        original.id = i->second;
        original.idempotency_key = key;
        outcomes.push_back(submit_outcome{std::move(original), true});
        continue;
      }
      if (auto i = st.pending_keys.find(key); i != st.pending_keys.end()) {
        // Replay of a task still being committed: answered after that commit.
        outcomes.push_back(submit_outcome{i->second, true});
        continue;
      }
    }
    auto task = std::make_shared<task_record>(std::move(spec));
    task->id = runtime::new_id(now);
    task->status = task->depends_on.empty() ? task_status::queued : task_status::pending;
    task->attempts = 0;
    task->created_at = now;
    task->updated_at = now;
    outcomes.push_back(submit_outcome{*task, false});
    if (!key.empty())
      st.pending_keys.emplace(key, *task);
    batch.tasks.push_back(*task);
    batch.events.push_back(task_event{task->id, task->status, now, 0, {}, "accepted"});
    fresh.push_back(std::move(task));
  }
  if (st.live.size() + st.admitting + fresh.size() > st.ctx->settings.queue_max) {
    for (const auto& t : fresh)
      if (!t->idempotency_key.empty())
        st.pending_keys.erase(t->idempotency_key);
    msg.reply(make_error(errc::queue_full,
                         "the task queue is full ("
                           + std::to_string(st.ctx->settings.queue_max)
                           + " unfinished tasks); retry later"));
    return;
  }
  st.admitting += fresh.size();
  auto me = caf::actor_cast<caf::actor>(self);
  auto shared = std::make_shared<admitted_msg>();
  shared->outcomes = std::move(outcomes);
  shared->fresh = std::move(fresh);
  shared->reply = std::move(msg.reply);
  st.ctx->writer->enqueue(std::move(batch), [me, shared](const result<unit_t>& res) {
    shared->commit = res;
    caf::anon_send(me, std::move(*shared));
  });
}

void on_admitted(scheduler_actor* self, admitted_msg& msg) {
  auto& st = self->state;
  st.admitting -= msg.fresh.size();
  if (!msg.commit) {
    for (const auto& t : msg.fresh)
      if (!t->idempotency_key.empty())
        st.pending_keys.erase(t->idempotency_key);
    msg.reply(make_error(errc::store_unavailable,
                         "the task could not be stored: " + msg.commit.err().message));
    return;
  }
  // A replay whose original failed to commit has nothing to return. The request fails, but
  // its new tasks are committed and start like any other (their keys make a resubmission
  // find them).
  bool orphaned_replay = false;
  for (auto& out : msg.outcomes)
    orphaned_replay = orphaned_replay
                      || (out.replayed && !out.task.idempotency_key.empty()
                          && st.keys.count(out.task.idempotency_key) == 0
                          && st.pending_keys.count(out.task.idempotency_key) == 0);
  if (orphaned_replay)
    msg.reply(make_error(errc::store_unavailable,
                         "the original task of an idempotency key was not stored; retry"));
  else
    msg.reply(std::move(msg.outcomes));
  for (auto& task : msg.fresh) {
    if (!task->idempotency_key.empty()) {
      st.pending_keys.erase(task->idempotency_key);
      st.keys.emplace(task->idempotency_key, task->id);
    }
    auto& lt = st.live[task->id];
    lt.task = task;
    lt.status = task->status;
    lt.cls = requirement_class(*task);
    ++st.counts[static_cast<size_t>(task->status)];
    materialize(self, std::move(task));
  }
}

/// Book-keeping once a task is terminal: free its agent, wake its dependents, start the next.
void retire(scheduler_actor* self, const std::string& task_id, task_status status,
            bool had_actor) {
  auto& st = self->state;
  auto i = st.live.find(task_id);
  if (i == st.live.end())
    return;
  auto& lt = i->second;
  if (!lt.assigned_agent.empty())
    release_agent(st, lt.assigned_agent, false, 0, false);
  if (lt.in_ready)
    st.ready.remove_if(lt.cls, [&](const ready_entry& e) { return e.task->id == task_id; });
  if (lt.in_backlog)
    st.backlog.erase(std::remove(st.backlog.begin(), st.backlog.end(), lt.task),
                     st.backlog.end());
  set_status(st, lt, status);
  for (auto& rp : lt.dep_waiters)
    rp.deliver(static_cast<int32_t>(status));
  st.live.erase(i);
  if (had_actor)
    --st.live_actors;
  drain_backlog(self);
  dispatch(self);
  check_drain(self);
}

/// Re-admits a stored terminal task (POST /api/tasks/{id}/retry).
void on_retry(scheduler_actor* self, retry_msg& msg) {
  auto& st = self->state;
  if (auto i = st.live.find(msg.id); i != st.live.end()) {
    msg.reply(make_error(errc::illegal_state,
                         "task is still " + std::string{to_string(i->second.status)}
                           + "; only failed, dead or cancelled tasks can be retried"));
    return;
  }
  // Not live, so the stored record (read by the engine) is final.
  auto task = std::make_shared<task_record>(std::move(msg.stored));
  if (!can_transition(task->status, task_status::queued)) {
    msg.reply(make_error(errc::illegal_state,
                         "task is " + std::string{to_string(task->status)}
                           + "; only failed, dead or cancelled tasks can be retried"));
    return;
  }
  if (st.live.size() + st.admitting + 1 > st.ctx->settings.queue_max) {
    msg.reply(make_error(errc::queue_full, "the task queue is full; retry later"));
    return;
  }
  auto now = st.ctx->now();
  --st.counts[static_cast<size_t>(task->status)];
  task->status = task->depends_on.empty() ? task_status::queued : task_status::pending;
  task->attempts = 0;
  task->error.clear();
  task->result_json.clear();
  task->finished_at = 0;
  task->updated_at = now;
  persistence::write_batch batch;
  batch.tasks.push_back(*task);
  batch.events.push_back(task_event{task->id, task->status, now, 0, {}, "retried by request"});
  auto reply = std::move(msg.reply);
  auto copy = *task;
  st.ctx->writer->enqueue(std::move(batch), [reply, copy](const result<unit_t>& res) {
    if (res)
      reply(copy);
    else
      reply(make_error(errc::store_unavailable, "the retry could not be stored: "
                                                  + res.err().message));
  });
  auto& lt = st.live[task->id];
  lt.task = task;
  lt.status = task->status;
  lt.cls = requirement_class(*task);
  ++st.counts[static_cast<size_t>(task->status)];
  materialize(self, std::move(task));
}

void on_cancel(scheduler_actor* self, cancel_msg& msg) {
  auto& st = self->state;
  auto i = st.live.find(msg.id);
  if (i != st.live.end()) {
    auto& lt = i->second;
    if (lt.handle) {
      self->send(lt.handle, task_cancel_msg{std::move(msg.reply)});
      return;
    }
    // Dormant or backlogged: no actor owns it, so the scheduler finishes it here.
    auto now = st.ctx->now();
    auto& t = *lt.task;
    t.status = task_status::cancelled;
    t.error = "cancelled by request";
    t.updated_at = now;
    t.finished_at = now;
    persistence::write_batch batch;
    batch.tasks.push_back(t);
    batch.events.push_back(
      task_event{t.id, task_status::cancelled, now, t.attempts, {}, "cancelled by request"});
    st.ctx->writer->enqueue(std::move(batch));
    msg.reply(t);
    retire(self, msg.id, task_status::cancelled, false);
    return;
  }
  // Not live: finished long ago or unknown. The engine tells which from the store.
  msg.reply(make_error(errc::not_found, "no unfinished task with id " + msg.id, "id"));
}

// -- agents -----------------------------------------------------------------------

void on_agent_create(scheduler_actor* self, agent_create_msg& msg) {
  auto& st = self->state;
  if (st.agents.size() >= st.ctx->settings.max_agents) {
    msg.reply(make_error(errc::capacity_exceeded,
                         "the hive already has the maximum of "
                           + std::to_string(st.ctx->settings.max_agents)
                           + " agents (HIVE_PERFORMANCE__MAX_AGENTS)"));
    return;
  }
  auto now = st.ctx->now();
  auto rec = std::move(msg.spec);
  rec.id = runtime::new_id(now);
  rec.created_at = now;
  rec.updated_at = now;
  rec.tasks_completed = 0;
  rec.tasks_failed = 0;
  rec.mean_latency_ms = 0;
  if (rec.state != agent_state::paused)
    rec.state = agent_state::idle;
  spawn_agent(self, st.agents.add(rec));
  persistence::write_batch batch;
  batch.agents.push_back(rec);
  auto me = caf::actor_cast<caf::actor>(self);
  auto reply = std::move(msg.reply);
  st.ctx->writer->enqueue(std::move(batch), [me, reply, rec](const result<unit_t>& res) {
    if (res) {
      reply(rec);
      return;
    }
    caf::anon_send(me, agent_delete_msg{rec.id, [](result<unit_t>) {}});
    reply(make_error(errc::store_unavailable, "the agent could not be stored: "
                                                + res.err().message));
  });
  dispatch(self);
}

void on_agent_update(scheduler_actor* self, agent_update_msg& msg) {
  auto& st = self->state;
  auto* entry = st.agents.find(msg.id);
  if (entry == nullptr) {
    msg.reply(make_error(errc::not_found, "no agent with id " + msg.id, "id"));
    return;
  }
  st.agents.apply(*entry, msg.patch, st.ctx->now());
  if (entry->suspended && entry->handle && msg.patch.state == agent_state::idle)
    st.agents.set_suspended(*entry, false); // an operator vouches for it
  if (!entry->handle && entry->record.state != agent_state::failed) {
    // Revived after it was marked failed.
    entry->crash_streak = 0;
    spawn_agent(self, *entry);
  }
  st.dirty_agents.erase(msg.id);
  persistence::write_batch batch;
  batch.agents.push_back(entry->record);
  auto reply = std::move(msg.reply);
  auto rec = entry->record;
  st.ctx->writer->enqueue(std::move(batch), [reply, rec](const result<unit_t>& res) {
    if (res)
      reply(rec);
    else
      reply(make_error(errc::store_unavailable, "the change could not be stored: "
                                                  + res.err().message));
  });
  dispatch(self);
}

void on_agent_delete(scheduler_actor* self, agent_delete_msg& msg) {
  auto& st = self->state;
  auto* entry = st.agents.find(msg.id);
  if (entry == nullptr) {
    msg.reply(make_error(errc::not_found, "no agent with id " + msg.id, "id"));
    return;
  }
  if (entry->handle) {
    self->demonitor(entry->handle);
    // Its running tasks see the actor go down and are retried elsewhere.
    self->send_exit(entry->handle, caf::exit_reason::user_shutdown);
  }
  st.agents.remove(msg.id);
  st.dirty_agents.erase(msg.id);
  persistence::write_batch batch;
  batch.deleted_agents.push_back(msg.id);
  auto reply = std::move(msg.reply);
  st.ctx->writer->enqueue(std::move(batch), [reply](const result<unit_t>& res) {
    if (res)
      reply(unit);
    else
      reply(make_error(errc::store_unavailable, "the deletion could not be stored: "
                                                  + res.err().message));
  });
}

void on_agent_list(scheduler_actor* self, agent_list_msg& msg) {
  const auto& entries = self->state.agents.entries();
  const auto& q = msg.query;
  std::vector<agent_record> out;
  auto it = q.after_id.empty() ? entries.begin() : entries.upper_bound(q.after_id);
  for (; it != entries.end() && out.size() < q.limit; ++it) {
    const auto& rec = it->second.record;
    if (q.state && rec.state != *q.state)
      continue;
    if (q.type && rec.type != *q.type)
      continue;
    if (q.capability && !rec.proficiency(*q.capability))
      continue;
    out.push_back(rec);
  }
  msg.reply(std::move(out));
}

/// Consecutive crashes after which an agent is no longer restarted.
constexpr uint32_t max_crash_streak = 3;

void on_agent_down(scheduler_actor* self, caf::down_msg& dm) {
  auto& st = self->state;
  // Crashes are rare: a scan beats keeping an address index per agent.
  agent_entry* crashed = nullptr;
  for (auto& kv : st.agents.entries())
    if (kv.second.handle && kv.second.handle.address() == dm.source)
      crashed = st.agents.find(kv.first);
  if (crashed == nullptr)
    return;
  // Supervision: restart the agent from its record; the task actors whose attempt was on the
  // crashed actor see it go down and run again. An agent that keeps crashing without finishing
  // anything is marked `failed` instead (PATCH state=idle revives it).
  crashed->handle = nullptr;
  auto why = self->system().render(dm.reason);
  if (++crashed->crash_streak >= max_crash_streak) {
    runtime::log_error("scheduler", "agent " + crashed->record.id + " crashed "
                                      + std::to_string(crashed->crash_streak)
                                      + " times in a row (" + why + "); marking it failed");
    st.agents.set_state(*crashed, agent_state::failed, st.ctx->now());
    st.dirty_agents.insert(crashed->record.id);
    return;
  }
  ++st.agent_restarts;
  runtime::log_warn("scheduler", "agent " + crashed->record.id + " crashed (" + why
                                   + "); restarting it");
  spawn_agent(self, *crashed);
}

void on_status(scheduler_actor* self, status_msg& msg) {
  auto& st = self->state;
  hive_status out;
  out.agents_total = st.agents.size();
  out.agents_by_state = st.agents.count_by_state();
  out.tasks_by_status = st.counts;
  for (int lvl = 0; lvl < priority_levels; ++lvl)
    out.queue_depth_by_priority[lvl] = st.ready.size(static_cast<priority>(lvl));
  out.live_task_actors = st.live_actors;
  out.running_tasks = st.running;
  out.agent_restarts = st.agent_restarts;
  out.started_at = st.started_at;
  out.now = st.ctx->now();
  out.store = std::string{st.ctx->db->name()};
  out.task_types = st.ctx->executors->names();
  msg.reply(std::move(out));
}

// -- start ------------------------------------------------------------------------

void recover(scheduler_actor* self, recovered_state& rec) {
  auto& st = self->state;
  auto now = st.ctx->now();
  st.counts = rec.counts;
  for (auto& agent : rec.agents) {
    if (agent.state == agent_state::working || agent.state == agent_state::offline)
      agent.state = agent_state::idle;
    spawn_agent(self, st.agents.add(std::move(agent)));
  }
  for (auto& [id, key] : rec.idempotency_keys)
    st.keys.emplace(std::move(key), std::move(id));
  persistence::write_batch batch;
  for (auto& t : rec.unfinished) {
    auto task = std::make_shared<task_record>(std::move(t));
    if (task->status == task_status::running) {
      // Interrupted by a stop or crash: run it again.
      --st.counts[static_cast<size_t>(task_status::running)];
      ++st.counts[static_cast<size_t>(task_status::queued)];
      task->status = task_status::queued;
      task->updated_at = now;
      batch.tasks.push_back(*task);
      batch.events.push_back(task_event{task->id, task_status::queued, now, task->attempts, {},
                                        "re-queued after a restart"});
    }
    auto& lt = st.live[task->id];
    lt.task = task;
    lt.status = task->status;
    lt.cls = requirement_class(*task);
    materialize(self, std::move(task));
  }
  if (!batch.empty())
    st.ctx->writer->enqueue(std::move(batch));
  if (!rec.agents.empty() || !rec.unfinished.empty())
    runtime::log_info("scheduler", "recovered " + std::to_string(st.agents.size())
                                     + " agents and " + std::to_string(st.live.size())
                                     + " unfinished tasks");
}

caf::behavior scheduler_behavior(scheduler_actor* self, context_ptr ctx, recovered_state rec) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.ready = dispatch_queue<ready_entry>{st.ctx->settings.aging_ms};
  st.started_at = st.ctx->now();
  recover(self, rec);
  self->set_down_handler([=](caf::down_msg& dm) { on_agent_down(self, dm); });
  self->delayed_send(self, std::chrono::milliseconds{st.ctx->settings.agent_flush_ms},
                     tick_atom::value);
  return {
    [=](submit_msg& msg) { ++self->state.activity; on_submit(self, msg); },
    [=](admitted_msg& msg) { ++self->state.activity; on_admitted(self, msg); },
    [=](ready_msg& msg) {
      auto& s = self->state;
      auto i = s.live.find(msg.task->id);
      if (i == s.live.end())
        return;
      enqueue_ready(self, i->second, std::move(msg.handle));
      dispatch(self);
    },
    [=](release_msg& msg) {
      auto& s = self->state;
      if (auto i = s.live.find(msg.task_id); i != s.live.end()) {
        if (i->second.assigned_agent != msg.agent_id)
          return; // already released (the task finished first)
        i->second.assigned_agent.clear();
        if (i->second.status == task_status::running)
          set_status(s, i->second, task_status::queued);
      }
      release_agent(s, msg.agent_id, msg.success, msg.latency_ms, msg.counted);
      if (msg.lost_agent) {
        // The agent's actor died under the task; until its down message arrives and it is
        // restarted, give it no work (the task would only meet the dead actor again).
        auto* agent = s.agents.find(msg.agent_id);
        if (agent != nullptr && agent->handle == msg.lost_agent)
          s.agents.set_suspended(*agent, true);
      }
      dispatch(self);
      check_drain(self);
    },
    [=](finished_msg& msg) { ++self->state.activity; retire(self, msg.task_id, msg.status, true); },
    [=](await_dep_atom, const std::string& dep) -> caf::result<int32_t> {
      auto& s = self->state;
      if (auto i = s.live.find(dep); i != s.live.end()) {
        auto rp = self->make_response_promise();
        i->second.dep_waiters.push_back(rp);
        return caf::delegated<int32_t>{};
      }
      // Finished earlier: look its status up on the read pool, answer when it comes back.
      auto rp = self->make_response_promise();
      auto& waiting = s.dep_lookups[dep];
      waiting.push_back(rp);
      if (waiting.size() == 1) {
        auto me = caf::actor_cast<caf::actor>(self);
        auto db = s.ctx->db;
        bool posted = s.ctx->reads->post([me, db, dep] {
          auto found = db->find_task(dep);
          auto status = found && found->has_value() ? (*found)->status : task_status::failed;
          caf::anon_send(me, dep_status_msg{dep, status});
        });
        if (!posted)
          self->send(self, dep_status_msg{dep, task_status::failed});
      }
      return caf::delegated<int32_t>{};
    },
    [=](dep_status_msg& msg) {
      auto& s = self->state;
      auto i = s.dep_lookups.find(msg.task_id);
      if (i == s.dep_lookups.end())
        return;
      for (auto& rp : i->second)
        rp.deliver(static_cast<int32_t>(msg.status));
      s.dep_lookups.erase(i);
    },
    [=](cancel_msg& msg) { on_cancel(self, msg); },
    [=](retry_msg& msg) { on_retry(self, msg); },
    [=](agent_create_msg& msg) { ++self->state.activity; on_agent_create(self, msg); },
    [=](agent_get_msg& msg) {
      if (auto* entry = self->state.agents.find(msg.id))
        msg.reply(entry->record);
      else
        msg.reply(make_error(errc::not_found, "no agent with id " + msg.id, "id"));
    },
    [=](agent_list_msg& msg) { on_agent_list(self, msg); },
    [=](agent_update_msg& msg) { ++self->state.activity; on_agent_update(self, msg); },
    [=](agent_delete_msg& msg) { ++self->state.activity; on_agent_delete(self, msg); },
    [=](status_msg& msg) { on_status(self, msg); },
    [=](drain_msg& msg) {
      auto& s = self->state;
      s.draining = true;
      s.drain_deadline = msg.deadline;
      s.drain_reply = std::move(msg.reply);
      check_drain(self);
    },
    [=](stop_atom) {
      auto& s = self->state;
      flush_agents(s);
      for (auto& kv : s.live)
        if (kv.second.handle)
          self->send_exit(kv.second.handle, caf::exit_reason::user_shutdown);
      // Agents hold no timers, so none needs an exit message: dropping the directory drops
      // their last references, which ends them (much cheaper than 100,000 exit messages).
      self->quit();
    },
    [=](tick_atom) {
      auto& s = self->state;
      flush_agents(s);
      // After a burst of work, once a whole tick passed quietly, hand freed memory back.
      if (s.activity == s.activity_seen && s.activity != s.activity_trimmed) {
        runtime::release_free_memory();
        s.activity_trimmed = s.activity;
      }
      s.activity_seen = s.activity;
      check_drain(self);
      auto period = s.draining ? 20u : s.ctx->settings.agent_flush_ms;
      self->delayed_send(self, std::chrono::milliseconds{period}, tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_scheduler(caf::actor_system& sys, context_ptr ctx, recovered_state recovered) {
  return sys.spawn(scheduler_behavior, std::move(ctx), std::move(recovered));
}

} // namespace hive::actors
