// Agent actor: executes tasks and answers each run request with its execution_result.
#include "actors/agent_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace hive::actors {
namespace {

struct agent_actor_state {
  context_ptr ctx;
  std::string id;
  uint64_t next_ticket = 0;
  /// Answers waiting for a delay or the blocking pool, by ticket.
  std::unordered_map<uint64_t, std::pair<caf::response_promise, execution_result>> deferred;

  static inline const char* name = "hive.agent";
};

using agent_actor = caf::stateful_actor<agent_actor_state>;

/// Delivers `res` now, or after its ready_after_ms delay.
void answer(agent_actor* self, caf::response_promise rp, execution_result res) {
  if (res.ready_after_ms == 0) {
    rp.deliver(std::move(res));
    return;
  }
  auto ticket = self->state.next_ticket++;
  auto delay = std::chrono::milliseconds{res.ready_after_ms};
  self->state.deferred.emplace(ticket, std::make_pair(std::move(rp), std::move(res)));
  self->delayed_send(self, delay, deliver_atom::value, ticket);
}

caf::behavior agent_behavior(agent_actor* self, context_ptr ctx, std::string id) {
  self->state.ctx = std::move(ctx);
  self->state.id = std::move(id);
  return {
    [=](run_atom, task_ptr task) {
      auto rp = self->make_response_promise();
      const auto* exec = self->state.ctx->executors->find(task->type);
      if (exec == nullptr) {
        rp.deliver(execution_result::failure("no executor for task type '" + task->type + "'",
                                             false));
        return;
      }
      if (exec->mode(*task) == execution_mode::inline_call) {
        answer(self, std::move(rp), exec->run(*task));
        return;
      }
      // Blocking work: run on the pool, come back to this actor with the result.
      auto ticket = self->state.next_ticket++;
      self->state.deferred.emplace(ticket, std::make_pair(std::move(rp), execution_result{}));
      caf::actor me = caf::actor_cast<caf::actor>(self);
      bool posted = self->state.ctx->blocking->post([me, exec, task, ticket] {
        execution_result res;
        try {
          res = exec->run(*task);
        } catch (const std::exception& e) {
          res = execution_result::failure(std::string{"executor threw: "} + e.what(), true);
        }
        caf::anon_send(me, deliver_atom::value, ticket, std::move(res));
      });
      if (!posted) {
        auto node = self->state.deferred.extract(ticket);
        node.mapped().first.deliver(execution_result::failure("server is stopping", true));
      }
    },
    [=](deliver_atom, uint64_t ticket, execution_result& res) {
      // A blocking run finished: deliver now or after its delay.
      auto i = self->state.deferred.find(ticket);
      if (i == self->state.deferred.end())
        return;
      auto rp = std::move(i->second.first);
      self->state.deferred.erase(i);
      answer(self, std::move(rp), std::move(res));
    },
    [=](deliver_atom, uint64_t ticket) {
      // A delay elapsed.
      auto i = self->state.deferred.find(ticket);
      if (i == self->state.deferred.end())
        return;
      auto entry = std::move(i->second);
      self->state.deferred.erase(i);
      entry.second.ready_after_ms = 0;
      entry.first.deliver(std::move(entry.second));
    },
  };
}

} // namespace

caf::actor spawn_agent_actor(caf::local_actor* parent, context_ptr ctx, std::string agent_id) {
  return parent->spawn(agent_behavior, std::move(ctx), std::move(agent_id));
}

} // namespace hive::actors
