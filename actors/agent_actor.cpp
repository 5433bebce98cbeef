// Agent actor: executes tasks and answers each run request with its execution_result.
#include "actors/agent_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/wire.hpp"

namespace hive::actors {
namespace {

/// A run on the blocking pool whose answer is not delivered yet.
struct pool_run {
  caf::response_promise rp;
  std::string task_id;
};

/// Kept small: a hive may hold 100,000 idle agents. The agent never sends itself delayed
/// messages (a pending one would keep the actor alive), so an idle agent ends as soon as the
/// scheduler drops its handle.
/// A resumable run (a Lua coroutine) paused on a request, by ticket.
struct paused_run {
  caf::response_promise rp;
  std::string task_id;
  std::string agent_id;
  std::unique_ptr<resumable_run> run;
  bool lent = false; ///< its slot was given back at its first wait
};

struct agent_actor_state {
  using pool_map = std::unordered_map<uint64_t, pool_run>;
  using paused_map = std::unordered_map<uint64_t, paused_run>;
  context_ptr ctx;
  caf::actor_addr scheduler; ///< weak: the scheduler holds this actor, not the reverse
  uint64_t next_ticket = 0;
  /// Runs on the blocking pool, by ticket (made on first use).
  std::unique_ptr<pool_map> on_pool;
  /// Resumable runs waiting for an answer, and what executors keep here (made on first use).
  std::unique_ptr<paused_map> paused;
  std::unique_ptr<agent_local> local;

  pool_map& pool_runs() {
    if (!on_pool)
      on_pool = std::make_unique<pool_map>();
    return *on_pool;
  }

  static inline const char* name = "hive.agent";
};

using agent_actor = caf::stateful_actor<agent_actor_state>;

constexpr const char* state_kind = "agent_state"; ///< store kind of the agents' script state

/// Delivers a finished run or carries out what a paused one asks; the answer comes back as a
/// resume_msg on this actor.
void drive(agent_actor* self, uint64_t ticket, run_step step) {
  auto& paused = *self->state.paused;
  auto i = paused.find(ticket);
  if (i == paused.end())
    return;
  if (step.done) {
    auto rp = std::move(i->second.rp);
    paused.erase(i);
    rp.deliver(std::move(step.result));
    return;
  }
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto answer = [me, ticket](result<task_record> res) {
    caf::anon_send(me, resume_msg{ticket, std::move(res)});
  };
  auto& ctx = *self->state.ctx;
  auto scheduler = caf::actor_cast<caf::actor>(self->state.scheduler);
  auto& req = step.request;
  // Waiting for other tasks does not hold the agent's slot (emit does not wait).
  if (!i->second.lent && req.what != run_request::kind::emit && scheduler) {
    i->second.lent = true;
    self->send(scheduler, lend_slot_msg{i->second.agent_id, i->second.task_id});
  }
  switch (req.what) {
    case run_request::kind::submit: {
      if (!scheduler)
        return answer(make_error(errc::shutting_down, "the server is shutting down"));
      std::vector<task_record> specs;
      specs.push_back(std::move(req.spec));
      self->send(scheduler, submit_msg{std::move(specs), false,
                                       [answer](result<std::vector<submit_outcome>> res) {
                                         if (!res)
                                           return answer(std::move(res).err());
                                         answer(std::move(res->front().task));
                                       },
                                       {}});
      return;
    }
    case run_request::kind::submit_all: {
      if (!scheduler)
        return answer(make_error(errc::shutting_down, "the server is shutting down"));
      self->send(scheduler, submit_msg{std::move(req.specs), true,
                                       [answer](result<std::vector<submit_outcome>> res) {
                                         if (!res)
                                           return answer(std::move(res).err());
                                         task_record ids;
                                         ids.result_json = "[";
                                         for (const auto& o : *res)
                                           ids.result_json += (ids.result_json.size() > 1 ? ",\"" : "\"")
                                                              + o.task.id + "\"";
                                         ids.result_json += "]";
                                         answer(std::move(ids));
                                       },
                                       {}});
      return;
    }
    case run_request::kind::await_task:
      if (!scheduler)
        return answer(make_error(errc::shutting_down, "the server is shutting down"));
      self->send(scheduler, watch_task_msg{std::move(req.task_id), answer});
      return;
    case run_request::kind::emit: {
      if (ctx.events.has_subscribers()) {
        hive_event ev;
        ev.type = event_type::script_event;
        ev.at = ctx.now();
        ev.detail = std::move(req.spec.type);
        ev.data_json = std::make_shared<const std::string>(std::move(req.spec.payload_json));
        ev.task_id = i->second.task_id;
        ev.agent_id = i->second.agent_id;
        ctx.events.publish(ev);
      }
      // Nothing to wait for: go on at once (as a message, so a script emitting in a loop
      // still lets other messages in).
      caf::anon_send(me, resume_msg{ticket, task_record{}});
      return;
    }
    case run_request::kind::load_state:
    case run_request::kind::save_state: {
      // Store I/O on the read pool, never on this thread.
      auto* db = ctx.db;
      auto agent = i->second.agent_id + "/" + req.scope; // per agent and script
      bool save = req.what == run_request::kind::save_state;
      auto body = std::move(req.state_json);
      auto now = ctx.now();
      bool posted = ctx.reads->post([db, agent, save, body, now, answer] {
        task_record out;
        if (save) {
          auto ok = db->put_object({state_kind, agent, body, "{}", now});
          return ok ? answer(std::move(out)) : answer(std::move(ok).err());
        }
        auto found = db->find_object(state_kind, agent);
        if (!found)
          return answer(std::move(found).err());
        out.result_json = found->has_value() ? (*found)->body : "{}";
        answer(std::move(out));
      });
      if (!posted)
        answer(make_error(errc::shutting_down, "the server is shutting down"));
      return;
    }
  }
}

caf::behavior agent_behavior(agent_actor* self, context_ptr ctx, caf::actor_addr scheduler) {
  self->state.ctx = std::move(ctx);
  self->state.scheduler = std::move(scheduler);
  return {
    [=](run_atom, task_ptr task, execution_context_ptr on) -> caf::result<execution_result> {
      auto exec = self->state.ctx->executors->find(task->type);
      if (exec == nullptr)
        return execution_result::failure("no executor for task type '" + task->type + "'",
                                         false);
      // Cheap work runs right here (an exception escaping it crashes this actor on purpose:
      // the supervisor restarts it). A result with ready_after_ms is held back by the task.
      static const auto nobody = std::make_shared<const execution_context>();
      if (!on)
        on = nobody;
      auto mode = exec->mode(*task);
      if (mode == execution_mode::inline_call)
        return exec->run(*task, *on);
      if (mode == execution_mode::resumable) {
        // Runs here, pausing (without holding the thread) while it waits for other tasks.
        auto& st = self->state;
        if (!st.local)
          st.local = std::make_unique<agent_local>();
        if (!st.paused)
          st.paused = std::make_unique<agent_actor_state::paused_map>();
        auto run = exec->begin(*task, *on, *st.local);
        if (!run)
          return execution_result::failure("the executor cannot run this task", false);
        auto ticket = st.next_ticket++;
        auto rp = self->make_response_promise();
        auto* r = run.get();
        st.paused->emplace(ticket, paused_run{rp, task->id, on->agent_id, std::move(run)});
        drive(self, ticket, r->start());
        return rp;
      }
      // Blocking work: run on the pool, come back to this actor with the result.
      auto ticket = self->state.next_ticket++;
      auto rp = self->make_response_promise();
      self->state.pool_runs().emplace(ticket, pool_run{rp, task->id});
      caf::actor me = caf::actor_cast<caf::actor>(self);
      bool posted = self->state.ctx->blocking->post([me, exec, task, on, ticket] {
        execution_result res;
        try {
          res = exec->run(*task, *on);
        } catch (const std::exception& e) {
          res = execution_result::failure(std::string{"executor threw: "} + e.what(), true);
        }
        caf::anon_send(me, deliver_atom::value, ticket, std::move(res));
      });
      if (!posted) {
        self->state.pool_runs().erase(ticket);
        return execution_result::failure("server is stopping", true);
      }
      return rp;
    },
    [=](remote_run_atom, task_record& task,
        execution_context& on) -> caf::result<execution_result> {
      // A task of another node: run it as a local one (the request to this very actor), and
      // let this node's scheduler count the agent's load meanwhile.
      auto rp = self->make_response_promise();
      auto scheduler = caf::actor_cast<caf::actor>(self->state.scheduler);
      auto agent_id = on.agent_id;
      auto started = self->state.ctx->now();
      if (scheduler)
        self->send(scheduler, remote_load_msg{agent_id, true});
      auto done = [=](bool success) {
        if (scheduler)
          self->send(scheduler,
                     remote_load_msg{agent_id, false, success,
                                     static_cast<double>(self->state.ctx->now() - started)});
      };
      self->request(caf::actor_cast<caf::actor>(self), caf::infinite, run_atom::value,
                    std::make_shared<task_record>(std::move(task)),
                    std::make_shared<const execution_context>(std::move(on)))
        .then(
          [=](execution_result& res) mutable {
            done(res.ok);
            rp.deliver(std::move(res));
          },
          [=](caf::error& err) mutable {
            done(false);
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [=](deliver_atom, uint64_t ticket, execution_result& res) {
      auto& runs = self->state.pool_runs();
      auto i = runs.find(ticket);
      if (i == runs.end())
        return; // cancelled meanwhile
      auto rp = std::move(i->second.rp);
      runs.erase(i);
      rp.deliver(std::move(res));
    },
    [=](resume_msg& msg) {
      auto& st = self->state;
      if (!st.paused)
        return;
      auto i = st.paused->find(msg.ticket);
      if (i == st.paused->end())
        return; // cancelled meanwhile
      drive(self, msg.ticket, i->second.run->resume(std::move(msg.answer)));
    },
    [=](cancel_run_atom, const std::string& task_id) {
      // The task was cancelled or timed out: answer now. (Work already on the pool runs to its
      // end; its result is dropped. A paused run is dropped with its coroutine.)
      if (auto& paused = self->state.paused) {
        for (auto i = paused->begin(); i != paused->end(); ++i) {
          if (i->second.task_id == task_id) {
            auto rp = std::move(i->second.rp);
            paused->erase(i);
            rp.deliver(execution_result::failure("cancelled", false));
            return;
          }
        }
      }
      auto& runs = self->state.pool_runs();
      for (auto i = runs.begin(); i != runs.end(); ++i) {
        if (i->second.task_id == task_id) {
          i->second.rp.deliver(execution_result::failure("cancelled", false));
          runs.erase(i);
          return;
        }
      }
    },
  };
}

} // namespace

caf::actor spawn_agent_actor(caf::local_actor* parent, context_ptr ctx) {
  return parent->spawn(agent_behavior, std::move(ctx), parent->address());
}

} // namespace hive::actors
