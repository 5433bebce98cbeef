// What crosses nodes between schedulers and agents (cluster mode): the message types and their
// inspect() functions, so CAF can serialize them. Registered by cluster::configure (see
// register_wire_types); a message with one of these types sent to an actor on another node
// is carried by CAF's io middleman.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/executor.hpp"
#include "runtime/error.hpp"
#include "runtime/model.hpp"

namespace caf {
class actor_system_config;
} // namespace caf

namespace hive {

// CAF finds these beside their types (argument-dependent lookup). Enums travel as their
// underlying integers.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, capability& x) {
  return f(caf::meta::type_name("hive_capability"), x.name, x.proficiency, x.learning_rate);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, capability_requirement& x) {
  return f(caf::meta::type_name("hive_capability_requirement"), x.name, x.min_proficiency);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_record& x) {
  return f(caf::meta::type_name("hive_agent"), x.id, x.name, x.type, x.capabilities,
           x.max_concurrency, x.state, x.tasks_completed, x.tasks_failed, x.mean_latency_ms,
           x.metadata_json, x.created_at, x.updated_at, x.node_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_record& x) {
  return f(caf::meta::type_name("hive_task"), x.id, x.type, x.description, x.payload_json,
           x.priority, x.required_capabilities, x.depends_on, x.timeout_ms, x.max_retries,
           x.idempotency_key, x.status, x.attempts, x.agent_id, x.result_json, x.error,
           x.created_at, x.updated_at, x.started_at, x.finished_at);
}

} // namespace hive

namespace hive::actors {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, execution_result& x) {
  return f(caf::meta::type_name("hive_execution_result"), x.ok, x.result_json, x.error,
           x.retryable, x.ready_after_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, execution_context& x) {
  return f(caf::meta::type_name("hive_execution_context"), x.agent_id, x.agent_metadata_json);
}

/// An agent as the other nodes see it: its record (node_id says where it lives), the handle
/// of its actor, and how many tasks it runs now (from every node).
struct remote_agent {
  agent_record record;
  caf::actor handle;
  uint32_t load = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_agent& x) {
  return f(caf::meta::type_name("hive_remote_agent"), x.record, x.handle, x.load);
}

/// The answer to a request another node's scheduler carried out (an agent placed on this
/// node, changed or deleted; a task of this node cancelled): the agent or the task, or the
/// error as its code, message and field.
struct remote_reply {
  bool ok = true;
  uint16_t code = 0; ///< errc, when not ok
  std::string message;
  std::string field;
  agent_record agent;
  task_record task;

  static remote_reply from(result<agent_record> res);
  static remote_reply from(result<task_record> res);
  result<agent_record> to_result() &&;
  result<task_record> to_task_result() &&;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_reply& x) {
  return f(caf::meta::type_name("hive_remote_reply"), x.ok, x.code, x.message, x.field, x.agent,
           x.task);
}

/// An agent_patch on the wire (optional fields as flags).
struct wire_patch {
  bool has_name = false, has_state = false, has_capabilities = false, has_max = false,
       has_metadata = false;
  std::string name;
  agent_state state = agent_state::idle;
  std::vector<capability> capabilities;
  uint32_t max_concurrency = 0;
  std::string metadata_json;

  static wire_patch from(const agent_patch& p);
  agent_patch to_patch() &&;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_patch& x) {
  return f(caf::meta::type_name("hive_agent_patch"), x.has_name, x.has_state,
           x.has_capabilities, x.has_max, x.has_metadata, x.name, x.state, x.capabilities,
           x.max_concurrency, x.metadata_json);
}

// -- scheduler -> the scheduler of another node ------------------------------------------

/// (agents_sync_atom, node id, changed agents, removed agent ids, full, answer): this node's
/// agents changed; with `full`, the list is every agent of the node (agents not in it are
/// gone); with `answer`, the receiver sends its own whole list back.
using agents_sync_atom = caf::atom_constant<caf::atom("hagents")>;
/// (remote_create_atom, agent_record) -> remote_reply: create this agent here (placement).
using remote_create_atom = caf::atom_constant<caf::atom("hcreate")>;
/// (remote_update_atom, id, wire_patch) -> remote_reply: PATCH of an agent living here.
using remote_update_atom = caf::atom_constant<caf::atom("hupdate")>;
/// (remote_delete_atom, id) -> remote_reply: DELETE of an agent living here.
using remote_delete_atom = caf::atom_constant<caf::atom("hdelete")>;
/// (remote_cancel_atom, task id) -> remote_reply: cancel this task if it is live here.
using remote_cancel_atom = caf::atom_constant<caf::atom("hcancel")>;

// -- task actor -> an agent actor on another node -------------------------------------------

/// (remote_run_atom, task_record, execution_context) -> execution_result: run_atom by value.
using remote_run_atom = caf::atom_constant<caf::atom("hrun")>;

/// Registers every type above with CAF (cluster mode, before the actor system starts).
void register_wire_types(caf::actor_system_config& cfg);

} // namespace hive::actors
