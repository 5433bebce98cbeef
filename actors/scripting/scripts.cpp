// The script catalog and the executor that runs a script-defined task type.
#include "actors/scripting/scripts.hpp"

#include <algorithm>
#include <chrono>

#include <lua.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/neural_library.hpp"
#include "actors/scripting/lua_json.hpp"
#include "runtime/clock.hpp"
#include "runtime/log.hpp"

namespace hive::actors::scripting {
namespace {

constexpr const char* types_key = "hive.types"; ///< registry table: task type -> handler
constexpr size_t sandboxes_per_thread = 16;

/// hive.task_type(name, handler)
int register_task_type(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_argcheck(L, name[0] != '\0', 1, "a task type needs a name");
  lua_getfield(L, LUA_REGISTRYINDEX, types_key);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, name);
  return 0;
}

/// A sandbox with the `hive` table and an empty type table.
result<std::unique_ptr<sandbox>> prepared_sandbox(const sandbox_limits& limits) {
  auto box = sandbox::create(limits);
  if (!box)
    return box;
  lua_State* L = (*box)->state();
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, types_key);
  lua_newtable(L);
  lua_pushcfunction(L, register_task_type);
  lua_setfield(L, -2, "task_type");
  lua_setglobal(L, "hive");
  return box;
}

std::vector<std::string> registered_types(lua_State* L) {
  std::vector<std::string> out;
  lua_getfield(L, LUA_REGISTRYINDEX, types_key);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    out.emplace_back(lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  std::sort(out.begin(), out.end());
  return out;
}

std::string types_meta(const std::vector<std::string>& types) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("task_types");
  w.StartArray();
  for (const auto& t : types)
    w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
  w.EndArray();
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

/// ctx.log(message): a log line naming the script and the task.
int ctx_log(lua_State* L) {
  size_t len = 0;
  const char* msg = luaL_tolstring(L, 1, &len);
  std::string line = "script '";
  line += lua_tostring(L, lua_upvalueindex(1));
  line += "', task ";
  line += lua_tostring(L, lua_upvalueindex(2));
  line += ": ";
  line.append(msg, len);
  runtime::log_info("script", line);
  return 0;
}

void set_string(lua_State* L, const char* key, const std::string& value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

/// The `task` argument of a handler.
result<unit_t> push_task(lua_State* L, const task_record& task) {
  lua_createtable(L, 0, 8);
  set_string(L, "id", task.id);
  set_string(L, "type", task.type);
  set_string(L, "description", task.description);
  lua_pushinteger(L, static_cast<lua_Integer>(task.priority));
  lua_setfield(L, -2, "priority");
  lua_pushinteger(L, static_cast<lua_Integer>(task.attempts));
  lua_setfield(L, -2, "attempt");
  if (auto ok = push_json(L, task.payload_json.empty() ? "{}" : task.payload_json); !ok) {
    lua_pop(L, 1);
    return ok;
  }
  lua_setfield(L, -2, "payload");
  return unit;
}

/// The `ctx` argument of a handler.
result<unit_t> push_ctx(lua_State* L, const script& s, const task_record& task,
                        const execution_context& on) {
  lua_createtable(L, 0, 4);
  set_string(L, "agent_id", on.agent_id);
  set_string(L, "script", s.name);
  lua_pushlstring(L, s.name.data(), s.name.size());
  lua_pushlstring(L, task.id.data(), task.id.size());
  lua_pushcclosure(L, ctx_log, 2);
  lua_setfield(L, -2, "log");
  if (!on.agent_metadata_json.empty()) {
    if (auto ok = push_json(L, on.agent_metadata_json); !ok) {
      lua_pop(L, 1);
      return ok;
    }
    lua_setfield(L, -2, "metadata");
  }
  return unit;
}

/// Runs one task type of one script version. Each pool thread keeps a sandbox per script
/// version (loaded once), so a call costs a table or two, not a compile.
class script_executor final : public executor {
public:
  script_executor(std::shared_ptr<const script> s, std::string type, sandbox_limits limits)
    : script_(std::move(s)), type_(std::move(type)), limits_(limits) {}

  execution_mode mode(const task_record&) const override { return execution_mode::blocking; }

  execution_result run(const task_record& task, const execution_context& on) const override {
    auto where = "script '" + script_->name + "', task type '" + type_ + "': ";
    auto* box = sandbox_for_thread();
    if (box == nullptr)
      return execution_result::failure(where + "cannot load the script", false);
    lua_State* L = box->state();
    lua_getfield(L, LUA_REGISTRYINDEX, types_key);
    lua_getfield(L, -1, type_.c_str());
    lua_remove(L, -2);
    if (auto ok = push_task(L, task); !ok) {
      lua_pop(L, 1);
      return execution_result::failure(where + "payload: " + ok.err().message, false);
    }
    if (auto ok = push_ctx(L, *script_, task, on); !ok) {
      lua_pop(L, 2);
      return execution_result::failure(where + "agent metadata: " + ok.err().message, false);
    }
    auto limit = std::chrono::milliseconds{task.timeout_ms > 0 ? task.timeout_ms : 3'600'000};
    auto called = box->call(2, std::chrono::steady_clock::now() + limit);
    if (!called) {
      // A state left near its memory limit would fail the next task too: start afresh.
      if (box->memory_used() > limits_.max_memory_bytes / 2)
        forget_thread_sandbox();
      return execution_result::failure(where + called.err().message, false);
    }
    auto json = to_json(L, -1);
    lua_pop(L, 1);
    if (!json)
      return execution_result::failure(where + json.err().message, false);
    return execution_result::success(std::move(*json));
  }

private:
  using cache = std::map<std::pair<std::string, uint64_t>, std::unique_ptr<sandbox>>;
  static cache& thread_cache() {
    thread_local cache sandboxes;
    return sandboxes;
  }

  sandbox* sandbox_for_thread() const {
    auto& sandboxes = thread_cache();
    auto key = std::make_pair(script_->name, script_->version);
    // A state past half its memory is replaced before the task's arguments are pushed
    // (pushing happens outside the protected call, where a memory error cannot be caught).
    if (auto i = sandboxes.find(key); i != sandboxes.end()) {
      if (i->second->memory_used() <= limits_.max_memory_bytes / 2)
        return i->second.get();
      sandboxes.erase(i);
    }
    if (sandboxes.size() >= sandboxes_per_thread)
      sandboxes.clear();
    auto box = prepared_sandbox(limits_);
    if (!box || !(*box)->run_chunk(script_->name, script_->source))
      return nullptr;
    auto* raw = box->get();
    sandboxes.emplace(key, std::move(*box));
    return raw;
  }

  void forget_thread_sandbox() const {
    thread_cache().erase(std::make_pair(script_->name, script_->version));
  }

  std::shared_ptr<const script> script_;
  std::string type_;
  sandbox_limits limits_;
};

} // namespace

result<std::vector<std::string>> check_script(std::string_view name, std::string_view source,
                                              const sandbox_limits& limits) {
  auto box = prepared_sandbox(limits);
  if (!box)
    return box.err();
  if (auto ok = (*box)->run_chunk(name, source); !ok)
    return ok.err();
  auto types = registered_types((*box)->state());
  if (types.empty())
    return make_error(errc::invalid_field,
                      "the script registers no task type: call hive.task_type(name, "
                      "function(task, ctx) ... end)",
                      "source");
  return types;
}

script_catalog::script_catalog(persistence::store& db, const executor_registry& builtins,
                               sandbox_limits limits)
  : db_(db), builtins_(builtins), limits_(limits) {}

result<unit_t> script_catalog::activate(std::shared_ptr<const script> s) {
  for (const auto& type : s->task_types) {
    if (builtins_.is_builtin(type))
      return make_error(errc::invalid_field,
                        "task type '" + type + "' is built in; a script cannot redefine it",
                        "source");
    if (auto i = types_.find(type); i != types_.end()) {
      auto owner = std::find_if(scripts_.begin(), scripts_.end(), [&](const auto& kv) {
        const auto& t = kv.second->task_types;
        return kv.first != s->name && std::find(t.begin(), t.end(), type) != t.end();
      });
      if (owner != scripts_.end())
        return make_error(errc::illegal_state,
                          "task type '" + type + "' is defined by script '" + owner->first
                            + "'",
                          "source");
    }
  }
  if (auto old = scripts_.find(s->name); old != scripts_.end())
    for (const auto& type : old->second->task_types)
      types_.erase(type);
  for (const auto& type : s->task_types)
    types_[type] = std::make_shared<script_executor>(s, type, limits_);
  scripts_[s->name] = std::move(s);
  return unit;
}

result<size_t> script_catalog::load_all() {
  auto stored = db_.list_objects(script_kind);
  if (!stored)
    return stored.err();
  size_t loaded = 0;
  for (const auto& entry : *stored) {
    auto full = db_.find_object(script_kind, entry.name);
    if (!full)
      return full.err();
    if (!full->has_value())
      continue;
    const auto& o = **full;
    auto types = check_script(o.name, o.body, limits_);
    if (!types) {
      runtime::log_warn("script", "stored script '" + o.name + "' does not load: "
                                    + types.err().message);
      continue;
    }
    std::lock_guard<std::mutex> guard{mtx_};
    auto s = std::make_shared<script>(script{o.name, o.body, *types, o.updated_at, next_version_++});
    if (auto ok = activate(s); !ok) {
      runtime::log_warn("script", "stored script '" + o.name + "' is not active: "
                                    + ok.err().message);
      continue;
    }
    ++loaded;
  }
  return loaded;
}

result<std::pair<script, bool>> script_catalog::put(const std::string& name,
                                                    const std::string& source) {
  if (auto ok = check_object_name(name, "name", true); !ok)
    return ok.err();
  auto types = check_script(name, source, limits_);
  if (!types)
    return types.err();
  auto now = runtime::system_clock::instance().now();
  std::lock_guard<std::mutex> guard{mtx_};
  bool created = scripts_.find(name) == scripts_.end();
  auto s = std::make_shared<script>(script{name, source, *types, now, next_version_++});
  // Check the types before storing, activate after: a refused script is never stored.
  auto saved_scripts = scripts_;
  auto saved_types = types_;
  if (auto ok = activate(s); !ok)
    return ok.err();
  persistence::stored_object o{std::string{script_kind}, name, source, types_meta(*types), now};
  if (auto ok = db_.put_object(o); !ok) {
    scripts_ = std::move(saved_scripts);
    types_ = std::move(saved_types);
    return ok.err();
  }
  return std::make_pair(*s, created);
}

result<bool> script_catalog::remove(const std::string& name) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto gone = db_.delete_object(script_kind, name);
  if (!gone)
    return gone;
  if (auto i = scripts_.find(name); i != scripts_.end()) {
    for (const auto& type : i->second->task_types)
      types_.erase(type);
    scripts_.erase(i);
    return true;
  }
  return *gone;
}

std::vector<script> script_catalog::list() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<script> out;
  for (const auto& kv : scripts_)
    out.push_back(*kv.second);
  return out;
}

std::optional<script> script_catalog::get(std::string_view name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = scripts_.find(name);
  if (i == scripts_.end())
    return std::nullopt;
  return *i->second;
}

std::shared_ptr<const executor> script_catalog::find(std::string_view type) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = types_.find(type);
  return i == types_.end() ? nullptr : i->second;
}

std::vector<std::string> script_catalog::names() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (const auto& kv : types_)
    out.push_back(kv.first);
  return out;
}

} // namespace hive::actors::scripting
