// Scheduler actor: its behaviour (the message table), status, restart recovery and spawning.
#include "actors/scheduler.hpp"

#include <tuple>

#include <caf/all.hpp>

#include "actors/internal/scheduler_state.hpp"
#include "actors/task_actor.hpp"
#include "runtime/log.hpp"
#include "runtime/memory.hpp"

namespace hive::actors {
namespace internal {

void set_status(scheduler_state& st, live_task& lt, task_status to) {
  // In cluster mode a task taken over from another node was not in this node's counts.
  if (auto& from = st.counts[static_cast<size_t>(lt.status)]; from > 0)
    --from;
  ++st.counts[static_cast<size_t>(to)];
  lt.status = to;
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

void look_up_dependency(scheduler_actor* self, const std::string& dep) {
  auto& s = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  auto db = s.ctx->db;
  bool posted = s.ctx->reads->post([me, db, dep] {
    auto found = db->find_task(dep);
    // A failed read says nothing: ask again (as for an unfinished task). Unknown: failed.
    auto status = !found                ? task_status::pending
                  : found->has_value() ? (*found)->status
                                       : task_status::failed;
    caf::anon_send(me, dep_status_msg{dep, status});
  });
  if (!posted)
    self->send(self, dep_status_msg{dep, task_status::failed});
}

void resume_stored_task(scheduler_actor* self, task_record stored, const char* why) {
  auto& st = self->state;
  if (st.live.count(stored.id) != 0)
    return;
  auto task = std::make_shared<task_record>(std::move(stored));
  if (task->status == task_status::running) {
    // Interrupted by a stop or crash: run it again. One write per task, so that it takes
    // the task's own group-commit lane ahead of the task's next changes (see write_behind).
    if (auto& running = st.counts[static_cast<size_t>(task_status::running)]; running > 0)
      --running;
    ++st.counts[static_cast<size_t>(task_status::queued)];
    task->status = task_status::queued;
    task->updated_at = st.ctx->now();
    persistence::write_batch batch;
    batch.tasks.push_back(*task);
    batch.events.push_back(
      task_event{task->id, task_status::queued, task->updated_at, task->attempts, {}, why});
    st.ctx->writer->enqueue_durable(std::move(batch));
  }
  auto& lt = st.live[task->id];
  lt.task = task;
  lt.status = task->status;
  lt.cls = requirement_class(*task);
  materialize(self, std::move(task));
}

} // namespace internal

namespace {

using namespace internal;

void on_status(scheduler_actor* self, status_msg& msg) {
  auto& st = self->state;
  hive_status out;
  out.agents_total = st.agents.size();
  out.agents_here = st.agents.size() - st.agents.remote_count();
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
  std::tie(out.dispatch_local_us, out.dispatch_remote_us) = st.ctx->dispatch.summary();
  out.routing = st.ctx->routing_name;
  out.accelerator = st.ctx->accelerator;
  for (size_t i = 0; i < status_windows_secs.size(); ++i)
    out.activity[i] = st.ctx->activity->window(status_windows_secs[i], out.now);
  msg.reply(std::move(out));
}

// -- start ------------------------------------------------------------------------

void recover(scheduler_actor* self, recovered_state& rec) {
  auto& st = self->state;
  st.counts = rec.counts;
  for (auto& agent : rec.agents) {
    if (agent.state == agent_state::working || agent.state == agent_state::offline)
      agent.state = agent_state::idle;
    spawn_agent(self, st.agents.add(std::move(agent)));
  }
  for (auto& [id, key] : rec.idempotency_keys)
    st.keys.emplace(std::move(key), std::move(id));
  for (auto& t : rec.unfinished)
    resume_stored_task(self, std::move(t), "re-queued after a restart");
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
      bool frees_slot = true;
      if (auto i = s.live.find(msg.task_id); i != s.live.end()) {
        if (i->second.assigned_agent != msg.agent_id)
          return; // already released (the task finished first)
        i->second.assigned_agent.clear();
        frees_slot = !i->second.slot_lent;
        i->second.slot_lent = false;
        if (i->second.status == task_status::running)
          set_status(s, i->second, task_status::queued);
        // The routing model learns from every attempt that says something about the agent.
        // Proficiencies move with outcomes (after the scorer saw the agent as it was).
        if (msg.counted && i->second.task)
          if (auto* agent = s.agents.find(msg.agent_id)) {
            s.ctx->scorer->observe(*i->second.task, agent->record, msg.success, msg.latency_ms);
            learn_proficiency(agent->record, *i->second.task, msg.success);
          }
      }
      release_agent(s, msg.agent_id, frees_slot, msg.success, msg.latency_ms, msg.counted);
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
      // Finished earlier (or, in cluster mode, another node's): look its status up on the
      // read pool, answer once it is terminal.
      auto rp = self->make_response_promise();
      auto& waiting = s.dep_lookups[dep];
      waiting.push_back(rp);
      if (waiting.size() == 1)
        look_up_dependency(self, dep);
      return caf::delegated<int32_t>{};
    },
    [=](dep_status_msg& msg) {
      auto& s = self->state;
      auto i = s.dep_lookups.find(msg.task_id);
      if (i == s.dep_lookups.end())
        return;
      if (!is_terminal(msg.status)) {
        // Not finished, and not live here: another node runs it. Ask the store again.
        self->delayed_send(self, std::chrono::milliseconds{250}, dep_recheck_atom::value,
                           msg.task_id);
        return;
      }
      for (auto& rp : i->second)
        rp.deliver(static_cast<int32_t>(msg.status));
      s.dep_lookups.erase(i);
    },
    [=](dep_recheck_atom, const std::string& dep) {
      if (self->state.dep_lookups.count(dep) != 0)
        look_up_dependency(self, dep);
    },
    [=](cancel_msg& msg) { on_cancel(self, msg); },
    [=](watch_task_msg& msg) { on_watch_task(self, msg); },
    [=](lend_slot_msg& msg) {
      // A script paused for other tasks: its agent may take more work meanwhile (else a
      // script awaiting a sub-task on its own single-slot agent would wait forever).
      auto& s = self->state;
      auto i = s.live.find(msg.task_id);
      if (i == s.live.end() || i->second.assigned_agent != msg.agent_id || i->second.slot_lent)
        return;
      if (auto* agent = s.agents.find(msg.agent_id)) {
        i->second.slot_lent = true;
        s.agents.lend_slot(*agent, s.ctx->now());
        dispatch(self);
      }
    },
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
    // Cluster mode (scheduler_cluster.cpp).
    [=](peer_up_msg& msg) { on_peer_up(self, msg); },
    [=](peer_down_msg& msg) { on_peer_down(self, msg); },
    [=](agents_sync_atom, const std::string& node_id, std::vector<remote_agent>& changed,
        const std::vector<std::string>& removed, bool full, bool answer) {
      on_agents_sync(self, node_id, changed, removed, full, answer);
    },
    [=](adopt_msg& msg) { ++self->state.activity; on_adopt(self, msg); },
    [=](remote_load_msg& msg) { on_remote_load(self, msg); },
    [=](remote_create_atom, agent_record& spec) -> caf::result<remote_reply> {
      ++self->state.activity;
      return on_remote_create(self, spec);
    },
    [=](remote_update_atom, std::string& id, wire_patch& patch) -> caf::result<remote_reply> {
      ++self->state.activity;
      return on_remote_update(self, id, patch);
    },
    [=](remote_delete_atom, std::string& id) -> caf::result<remote_reply> {
      ++self->state.activity;
      return on_remote_delete(self, id);
    },
    [=](remote_cancel_atom, std::string& id) -> caf::result<remote_reply> {
      return on_remote_cancel(self, id);
    },
    [=](deliver_reply_msg& msg) { msg.rp.deliver(std::move(msg.reply)); },
    [=](drain_msg& msg) {
      auto& s = self->state;
      if (!s.draining)
        leave_peers(self);
      s.draining = true;
      s.drain_deadline = msg.deadline;
      s.drain_reply = std::move(msg.reply);
      check_drain(self);
    },
    [=](stop_atom) {
      auto& s = self->state;
      flush_agents(s);
      s.ctx->scorer->on_stop();
      for (auto& kv : s.live)
        if (kv.second.handle)
          self->send_exit(kv.second.handle, caf::exit_reason::user_shutdown);
      // Agents hold no timers, so none needs an exit message: dropping the directory drops
      // their last references, which ends them (much cheaper than 100,000 exit messages).
      // In cluster mode other nodes hold handles to them too (CAF keeps actors whose handles
      // went over the wire registered): those are told to stop.
      if (!s.ctx->settings.node_id.empty())
        for (const auto& [id, entry] : s.agents.entries())
          if (!entry.remote && entry.handle)
            self->send_exit(entry.handle, caf::exit_reason::user_shutdown);
      self->quit();
    },
    [=](tick_atom) {
      auto& s = self->state;
      sync_agents(self);
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
