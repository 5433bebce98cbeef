// Registration of the types that cross nodes, and the conversions of remote_reply.
#include "actors/wire.hpp"

#include <caf/actor_system_config.hpp>

namespace hive::actors {

namespace {

/// The reply carrying `res`'s value in `slot`, or its error.
template <class T>
remote_reply reply_of(result<T> res, T remote_reply::*slot) {
  remote_reply out;
  if (res) {
    out.*slot = std::move(*res);
    return out;
  }
  auto err = std::move(res).err();
  out.ok = false;
  out.code = static_cast<uint16_t>(err.code);
  out.message = std::move(err.message);
  out.field = std::move(err.field);
  return out;
}

} // namespace

remote_reply remote_reply::from(result<agent_record> res) {
  return reply_of(std::move(res), &remote_reply::agent);
}

remote_reply remote_reply::from(result<task_record> res) {
  return reply_of(std::move(res), &remote_reply::task);
}

result<task_record> remote_reply::to_task_result() && {
  if (ok)
    return std::move(task);
  return make_error(static_cast<errc>(code), std::move(message), std::move(field));
}

result<agent_record> remote_reply::to_result() && {
  if (ok)
    return std::move(agent);
  return make_error(static_cast<errc>(code), std::move(message), std::move(field));
}

wire_patch wire_patch::from(const agent_patch& p) {
  wire_patch w;
  if ((w.has_name = p.name.has_value()))
    w.name = *p.name;
  if ((w.has_state = p.state.has_value()))
    w.state = *p.state;
  if ((w.has_capabilities = p.capabilities.has_value()))
    w.capabilities = *p.capabilities;
  if ((w.has_max = p.max_concurrency.has_value()))
    w.max_concurrency = *p.max_concurrency;
  if ((w.has_metadata = p.metadata_json.has_value()))
    w.metadata_json = *p.metadata_json;
  return w;
}

agent_patch wire_patch::to_patch() && {
  agent_patch p;
  if (has_name)
    p.name = std::move(name);
  if (has_state)
    p.state = state;
  if (has_capabilities)
    p.capabilities = std::move(capabilities);
  if (has_max)
    p.max_concurrency = max_concurrency;
  if (has_metadata)
    p.metadata_json = std::move(metadata_json);
  return p;
}

void register_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<agent_record>("hive_agent");
  cfg.add_message_type<task_record>("hive_task");
  cfg.add_message_type<execution_result>("hive_execution_result");
  cfg.add_message_type<execution_context>("hive_execution_context");
  cfg.add_message_type<remote_agent>("hive_remote_agent");
  cfg.add_message_type<std::vector<remote_agent>>("hive_remote_agent_list");
  cfg.add_message_type<remote_reply>("hive_remote_reply");
  cfg.add_message_type<wire_patch>("hive_agent_patch");
}

} // namespace hive::actors
