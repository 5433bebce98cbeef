// Scheduler: admission, idempotency, routing of queued tasks to agents, the end of a task.
#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/all.hpp>

#include "actors/internal/scheduler_state.hpp"
#include "actors/task_actor.hpp"
#include "runtime/ids.hpp"

namespace hive::actors::internal {

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
      std::string_view owner;
      std::shared_ptr<const executor> exec;
      if (st.agents.has_script_agents() || st.agents.remote_count() > 0) {
        exec = st.ctx->executors->find(e.task->type);
        if (exec)
          owner = exec->owner();
      }
      // A script's types run where the script is known for sure: on this node's agents.
      auto* agent = st.agents.select(*e.task, *st.ctx->scorer, settings.routing_sample, owner,
                                     !owner.empty());
      if (agent == nullptr)
        return false;
      auto before = agent->record.state;
      st.agents.reserve(*agent, now);
      if (agent->record.state != before)
        st.ctx->publish(event_type::agent_updated, agent->record);
      st.dirty_agents.insert(agent->record.id);
      auto& lt = st.live[e.task->id];
      lt.in_ready = false;
      lt.assigned_agent = agent->record.id;
      set_status(st, lt, task_status::running);
      ++st.running;
      st.ctx->publish(event_type::task_assigned, *e.task, {}, agent->record.id);
      assign_msg assignment{agent->record.id, agent->handle, st.agents.context_of(*agent)};
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

namespace {

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

/// Makes a stored task live (its entry, counted by status), tells the event bus, starts it.
void start_live(scheduler_actor* self, task_ptr task, event_type event,
                std::string detail = {}) {
  auto& st = self->state;
  auto& lt = st.live[task->id];
  lt.task = task;
  lt.status = task->status;
  lt.cls = requirement_class(*task);
  ++st.counts[static_cast<size_t>(task->status)];
  st.ctx->publish(event, *task, std::move(detail));
  materialize(self, std::move(task));
}

} // namespace

// -- engine requests ------------------------------------------------------------

void on_submit(scheduler_actor* self, submit_msg& msg) {
  auto& st = self->state;
  if (st.draining) {
    msg.reply(make_error(errc::shutting_down, "the server is shutting down"));
    return;
  }
  for (auto& stored : msg.stored_keys) {
    auto key = stored.idempotency_key;
    if (st.keys.count(key) != 0)
      continue;
    st.keys.emplace(key, stored.id);
    // This node's own commit that was in doubt: it went through, and nothing runs it yet.
    auto earlier = st.in_doubt.find(key);
    if (earlier != st.in_doubt.end() && earlier->second == stored.id) {
      st.in_doubt.erase(earlier);
      if (st.live.count(stored.id) == 0 && !is_terminal(stored.status))
        start_live(self, std::make_shared<task_record>(std::move(stored)),
                   event_type::task_created);
    }
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
  auto* db = st.ctx->db;
  auto* reads = st.ctx->reads.get();
  st.ctx->writer->enqueue(std::move(batch), [me, shared, db, reads](const result<unit_t>& res) {
    shared->commit = res;
    // A single keyed submission refused by the store may clash with the task of an earlier
    // submission of the same key whose commit was in doubt (committed as the connection
    // dropped, reported as failed). Look the key up (on the read pool, once): if the store
    // holds it, that task is the answer.
    bool keyed_single = shared->fresh.size() == 1 && !shared->fresh.front()->idempotency_key.empty();
    if (res || !keyed_single) {
      caf::anon_send(me, std::move(*shared));
      return;
    }
    auto key = shared->fresh.front()->idempotency_key;
    bool posted = reads->post([me, shared, db, key] {
      if (auto found = db->find_task_by_key(key); found && found->has_value())
        shared->stored_original = std::move(**found);
      caf::anon_send(me, std::move(*shared));
    });
    if (!posted)
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
    if (msg.stored_original) {
      // The store holds the key. If its task is this node's own in-doubt submission (this
      // one, or an earlier one answered with an error) it did commit: adopt it (it was never
      // started). Either way, answer with it as a replay. (In cluster mode the key may be
      // another node's task: that node runs it.)
      auto original = std::make_shared<task_record>(std::move(*msg.stored_original));
      submit_outcome out{*original, true};
      auto earlier = st.in_doubt.find(original->idempotency_key);
      bool ours = original->id == msg.fresh.front()->id
                  || (earlier != st.in_doubt.end() && earlier->second == original->id);
      if (earlier != st.in_doubt.end() && ours)
        st.in_doubt.erase(earlier);
      if (ours && st.keys.count(original->idempotency_key) == 0
          && st.live.count(original->id) == 0 && !is_terminal(original->status)) {
        st.keys.emplace(original->idempotency_key, original->id);
        start_live(self, std::move(original), event_type::task_created);
      }
      msg.reply(std::vector<submit_outcome>{std::move(out)});
      return;
    }
    // Its commit may still have gone through: remember whose key it was.
    if (st.in_doubt.size() > 100'000)
      st.in_doubt.clear(); // an outage that long: a restart recovers what did commit
    for (const auto& t : msg.fresh)
      if (!t->idempotency_key.empty())
        st.in_doubt[t->idempotency_key] = t->id;
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
    start_live(self, std::move(task), event_type::task_created);
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
    release_agent(st, lt.assigned_agent, !lt.slot_lent, false, 0, false);
  if (lt.in_ready)
    st.ready.remove_if(lt.cls, [&](const ready_entry& e) { return e.task->id == task_id; });
  if (lt.in_backlog)
    st.backlog.erase(std::remove(st.backlog.begin(), st.backlog.end(), lt.task),
                     st.backlog.end());
  set_status(st, lt, status);
  for (auto& rp : lt.dep_waiters)
    rp.deliver(static_cast<int32_t>(status));
  for (auto& w : lt.watchers)
    w(*lt.task); // the record the task actor finished (it sent finished_msg after its last change)
  st.live.erase(i);
  if (had_actor)
    --st.live_actors;
  drain_backlog(self);
  dispatch(self);
  check_drain(self);
}

void on_watch_task(scheduler_actor* self, watch_task_msg& msg) {
  auto& st = self->state;
  if (auto i = st.live.find(msg.task_id); i != st.live.end()) {
    i->second.watchers.push_back(std::move(msg.reply));
    return;
  }
  // Not live: finished (or never was). Its last change may still be on its way to the store,
  // so the read waits (briefly) for a terminal status.
  auto db = st.ctx->db;
  auto reply = std::move(msg.reply);
  auto id = msg.task_id;
  bool posted = st.ctx->reads->post([db, id, reply] {
    for (int attempt = 0;; ++attempt) {
      auto found = db->find_task(id);
      if (!found)
        return reply(std::move(found).err());
      if (!found->has_value())
        return reply(make_error(errc::not_found, "no task with id " + id, "task_id"));
      if (is_terminal((*found)->status) || attempt >= 200)
        return reply(std::move(**found));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  if (!posted)
    reply(make_error(errc::shutting_down, "the server is shutting down"));
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
  if (auto& was = st.counts[static_cast<size_t>(task->status)]; was > 0)
    --was;
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
  start_live(self, std::move(task), event_type::task_retrying, "retried by request");
}

void on_cancel(scheduler_actor* self, cancel_msg& msg) {
  auto& st = self->state;
  auto i = st.live.find(msg.id);
  if (i != st.live.end()) {
    auto& lt = i->second;
    if (lt.handle) {
      // The task may be finishing right now (its finished_msg not yet here): ask by request,
      // so that a task actor that is already gone answers with an error instead of silence.
      auto answered = std::make_shared<bool>(false);
      auto reply = std::make_shared<callback<task_record>>(std::move(msg.reply));
      auto id = msg.id;
      self->request(lt.handle, caf::infinite, task_cancel_msg{[answered, reply](auto res) {
                      *answered = true;
                      (*reply)(std::move(res));
                    }})
        .then([]() {},
              [answered, reply, id](caf::error&) {
                if (!*answered) // finished meanwhile: the engine tells 409 from 404
                  (*reply)(make_error(errc::not_found, "no unfinished task with id " + id, "id"));
              });
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
    st.ctx->writer->enqueue_durable(std::move(batch));
    msg.reply(t);
    st.ctx->publish(event_type::task_cancelled, t, "cancelled by request");
    retire(self, msg.id, task_status::cancelled, false);
    return;
  }
  // Not live: finished long ago, unknown, or (cluster mode) another node's. The other nodes
  // are asked; failing them, the engine tells 404 from 409 from the store.
  if (!ask_peers_to_cancel(self, msg))
    msg.reply(make_error(errc::not_found, "no unfinished task with id " + msg.id, "id"));
}

} // namespace hive::actors::internal
