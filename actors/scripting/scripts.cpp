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
#include "inference/text_analysis.hpp"
#include "runtime/clock.hpp"
#include "runtime/log.hpp"

namespace hive::actors::scripting {
namespace {

constexpr const char* types_key = "hive.types"; ///< registry table: task type -> handler
constexpr const char* make_ctx_key = "hive.make_ctx"; ///< registry: builds a handler's ctx
constexpr size_t sandboxes_per_agent = 8;

/// hive.analyze(text [, max_keywords]): nlp.analyze's analysis, in this call (for short
/// texts; long ones are better sent as nlp.analyze sub-tasks, which run on the pool).
int analyze(lua_State* L) {
  size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  inference::analyze_options opts;
  if (lua_isinteger(L, 2))
    opts.max_keywords = static_cast<size_t>(std::clamp<lua_Integer>(lua_tointeger(L, 2), 0, 100));
  // (A memory error while pushing unwinds with longjmp and would leak this; the sandbox's
  // memory check keeps states far from their limit between tasks.)
  auto a = std::make_unique<inference::text_analysis>(
    inference::analyze_text(std::string_view{text, len}, opts));
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, static_cast<lua_Integer>(a->token_count));
  lua_setfield(L, -2, "token_count");
  lua_pushinteger(L, static_cast<lua_Integer>(a->sentence_count));
  lua_setfield(L, -2, "sentence_count");
  lua_createtable(L, static_cast<int>(a->keywords.size()), 0);
  for (size_t i = 0; i < a->keywords.size(); ++i) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, a->keywords[i].term.c_str());
    lua_setfield(L, -2, "term");
    lua_pushnumber(L, a->keywords[i].score);
    lua_setfield(L, -2, "score");
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "keywords");
  lua_createtable(L, 0, 2);
  lua_pushnumber(L, a->sentiment.score);
  lua_setfield(L, -2, "score");
  lua_pushstring(L, a->sentiment.label.c_str());
  lua_setfield(L, -2, "label");
  lua_setfield(L, -2, "sentiment");
  lua_pushstring(L, a->summary.c_str());
  lua_setfield(L, -2, "summary");
  return 1;
}

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

// What ctx offers besides log: Lua functions that pause the handler's coroutine with a
// tagged request the agent carries out (run_request), resumed with the answer.
constexpr const char* ctx_prelude = R"lua(
local yield, ipairs, error, assert = coroutine.yield, ipairs, error, assert
return function(agent_id, script, metadata, log)
  local ctx = { agent_id = agent_id, script = script, metadata = metadata, log = log }
  function ctx.submit(task_type, payload, opts)
    assert(type(task_type) == "string", "ctx.submit: the task type must be a string")
    return yield("hive.submit", task_type, payload or {}, opts or {})
  end
  function ctx.submit_all(list)
    assert(type(list) == "table", "ctx.submit_all: give a list of {type, payload, opts}")
    return yield("hive.submit_all", list)
  end
  function ctx.await(id)
    assert(type(id) == "string", "ctx.await: give the id ctx.submit returned")
    return yield("hive.await", id)
  end
  function ctx.emit(name, data)
    assert(type(name) == "string" and name ~= "", "ctx.emit: the event needs a name")
    yield("hive.emit", name, data or {})
  end
  function ctx.await_all(ids)
    local out = {}
    for i, id in ipairs(ids) do out[i] = ctx.await(id) end
    return out
  end
  function ctx.run(task_type, payload, opts)
    local id, err = ctx.submit(task_type, payload, opts)
    if not id then return nil, err end
    return ctx.await(id)
  end
  local state
  local function load_state()
    if state == nil then
      local s, err = yield("hive.load_state")
      if s == nil then error("ctx.state: " .. tostring(err), 3) end
      state = s
    end
    return state
  end
  ctx.state = {
    get = function(key) return load_state()[key] end,
    set = function(key, value)
      load_state()[key] = value
      local ok, err = yield("hive.save_state", state)
      if not ok then error("ctx.state: " .. tostring(err), 2) end
    end,
  }
  return ctx
end
)lua";

/// A sandbox with the `hive` table, an empty type table and the ctx builder.
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
  lua_pushcfunction(L, analyze);
  lua_setfield(L, -2, "analyze");
  lua_setglobal(L, "hive");
  if (auto ok = (*box)->run_chunk("hive.prelude", ctx_prelude, nullptr, true); !ok)
    return ok.err();
  lua_setfield(L, LUA_REGISTRYINDEX, make_ctx_key); // the chunk's result: the ctx builder
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

/// A Lua state per script version on one agent (kept in the agent actor's agent_local).
struct lua_host {
  /// Shared with the runs using them: a state dropped here lives on until its paused runs end.
  std::map<std::pair<std::string, uint64_t>, std::shared_ptr<sandbox>> sandboxes;
};

/// Pushes t[key] without metamethods (a script's table may have hostile ones, and this runs
/// outside any protected call).
void raw_field(lua_State* L, int t, const char* key) {
  lua_pushstring(L, key);
  lua_rawget(L, t);
}

/// Reads the number at `index` of table `opts` into `out`, if present.
void opt_number(lua_State* L, int opts, const char* key, double& out, bool& present) {
  raw_field(L, opts, key);
  present = lua_isnumber(L, -1) != 0;
  if (present)
    out = lua_tonumber(L, -1);
  lua_pop(L, 1);
}

/// One task of a script-defined type: the handler as a coroutine of the agent's Lua state.
class lua_run final : public resumable_run {
public:
  lua_run(std::shared_ptr<sandbox> box, std::string script, std::string type, task_record task,
          execution_context on)
    : box_(std::move(box)), script_(std::move(script)), type_(std::move(type)),
      task_(std::move(task)), on_(std::move(on)) {
    auto limit = std::chrono::milliseconds{task_.timeout_ms > 0 ? task_.timeout_ms : 3'600'000};
    deadline_ = std::chrono::steady_clock::now() + limit;
    steps_left_ = box_->max_instructions(); // for the whole run, across its pauses
  }

  ~lua_run() override {
    if (ref_ != LUA_NOREF)
      luaL_unref(box_->state(), LUA_REGISTRYINDEX, ref_);
  }

  run_step start() override {
    lua_State* L = box_->state();
    co_ = lua_newthread(L);
    ref_ = luaL_ref(L, LUA_REGISTRYINDEX); // keeps the coroutine while it is paused
    lua_getfield(co_, LUA_REGISTRYINDEX, types_key);
    lua_getfield(co_, -1, type_.c_str());
    lua_remove(co_, -2);
    if (!push_protected([this](lua_State* L) {
          if (!push_task(L, task_))
            lua_pushnil(L);
        }))
      return failed("the task's payload does not fit in the script's memory");
    if (lua_isnil(co_, -1))
      return failed("payload: not valid JSON");
    // ctx = make_ctx(agent_id, script, metadata, log)
    lua_getfield(co_, LUA_REGISTRYINDEX, make_ctx_key);
    lua_pushlstring(co_, on_.agent_id.data(), on_.agent_id.size());
    lua_pushstring(co_, script_name().c_str());
    if (on_.agent_metadata_json.empty() || !push_json(co_, on_.agent_metadata_json))
      lua_newtable(co_);
    lua_pushstring(co_, script_name().c_str());
    lua_pushlstring(co_, task_.id.data(), task_.id.size());
    lua_pushcclosure(co_, ctx_log, 2);
    if (lua_pcall(co_, 4, 1, 0) != LUA_OK)
      return failed(std::string{"cannot build ctx: "} + lua_tostring(co_, -1));
    return step(2);
  }

  run_step resume(result<task_record> answer) override {
    if (!answer) {
      lua_pushnil(co_);
      lua_pushstring(co_, answer.err().message.c_str());
      return step(2);
    }
    auto& t = *answer;
    switch (waiting_) {
      case run_request::kind::submit:
        lua_pushlstring(co_, t.id.data(), t.id.size());
        return step(1);
      case run_request::kind::await_task:
        if (!push_protected([&t](lua_State* L) {
              lua_createtable(L, 0, 4);
              lua_pushlstring(L, t.id.data(), t.id.size());
              lua_setfield(L, -2, "id");
              lua_pushstring(L, std::string{to_string(t.status)}.c_str());
              lua_setfield(L, -2, "status");
              if (!t.result_json.empty() && push_json(L, t.result_json))
                lua_setfield(L, -2, "result");
              if (!t.error.empty()) {
                lua_pushlstring(L, t.error.data(), t.error.size());
                lua_setfield(L, -2, "error");
              }
            }))
          return failed("ctx.await: the task's result does not fit in the script's memory");
        return step(1);
      case run_request::kind::submit_all:
      case run_request::kind::load_state:
        if (!push_protected([&t](lua_State* L) {
              if (!push_json(L, t.result_json.empty() ? "{}" : t.result_json))
                lua_newtable(L);
            }))
          return failed("the answer does not fit in the script's memory");
        return step(1);
      case run_request::kind::save_state:
        lua_pushboolean(co_, 1);
        return step(1);
      case run_request::kind::emit:
        return step(0);
    }
    return failed("unexpected answer");
  }

private:
  const std::string& script_name() const { return script_; }

  /// Runs `fill`, which pushes one value on the main state, under lua_pcall, and moves that
  /// value to the coroutine: a memory error while building it fails the run instead of
  /// reaching Lua's panic handler. (C++ objects inside `fill` leak if it is unwound.)
  template <class Fill>
  bool push_protected(Fill fill) {
    lua_State* L = box_->state();
    lua_pushcfunction(L, [](lua_State* S) -> int {
      (*static_cast<Fill*>(lua_touserdata(S, 1)))(S);
      return 1;
    });
    lua_pushlightuserdata(L, &fill);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
      lua_pop(L, 1);
      return false;
    }
    if (!lua_checkstack(co_, 2)) {
      lua_pop(L, 1);
      return false;
    }
    lua_xmove(L, co_, 1);
    return true;
  }

  run_step failed(std::string why) {
    run_step s;
    s.done = true;
    s.result = execution_result::failure("script '" + script_name() + "', task type '" + type_
                                           + "': " + why,
                                         false);
    return s;
  }

  /// A sub-task from (type, payload, opts) at those stack slots of the coroutine.
  result<unit_t> read_spec(int type_at, int payload_at, int opts, task_record& spec) {
    if (lua_type(co_, type_at) != LUA_TSTRING)
      return make_error(errc::invalid_field, "the task type must be a string");
    spec.type = lua_tostring(co_, type_at);
    if (lua_isnil(co_, payload_at)) {
      spec.payload_json = "{}";
    } else {
      auto payload = to_json(co_, payload_at);
      if (!payload)
        return make_error(errc::invalid_field, "payload: " + payload.err().message);
      spec.payload_json = *payload;
    }
    if (lua_istable(co_, opts)) {
      double x = 0;
      bool present = false;
      opt_number(co_, opts, "timeout_ms", x, present);
      if (present)
        spec.timeout_ms = static_cast<uint32_t>(std::clamp(x, 0.0, 4e9));
      opt_number(co_, opts, "max_retries", x, present);
      if (present)
        spec.max_retries = static_cast<uint32_t>(std::clamp(x, 0.0, 100.0));
      raw_field(co_, opts, "description");
      if (lua_type(co_, -1) == LUA_TSTRING)
        spec.description = lua_tostring(co_, -1);
      lua_pop(co_, 1);
    }
    spec.priority = task_.priority;
    // The same sub-task on a retry of this task: replayed, not created twice.
    spec.idempotency_key = task_.id + "/" + std::to_string(++sequence_);
    return unit;
  }

  /// Resumes the coroutine with `nargs` values and turns where it stopped into a step.
  run_step step(int nargs) {
    int nres = 0;
    std::string err;
    int rc = box_->resume(co_, nargs, deadline_, steps_left_, nres, err);
    if (rc == LUA_OK) {
      run_step s;
      s.done = true;
      auto json = nres > 0 ? to_json(co_, -nres) : result<std::string>{std::string{"null"}};
      if (!json)
        return failed(json.err().message);
      s.result = execution_result::success(std::move(*json));
      lua_pop(co_, nres);
      return s;
    }
    if (rc != LUA_YIELD)
      return failed(err);
    // Yielded: ("hive.submit", type, payload, opts), ("hive.await", id),
    // ("hive.load_state") or ("hive.save_state", table).
    int base = lua_gettop(co_) - nres + 1;
    const char* tag = nres > 0 && lua_type(co_, base) == LUA_TSTRING ? lua_tostring(co_, base)
                                                                      : nullptr;
    std::string what = tag != nullptr ? tag : "";
    run_step s;
    if (what == "hive.submit" && nres >= 4) {
      s.request.what = run_request::kind::submit;
      auto ok = read_spec(base + 1, base + 2, base + 3, s.request.spec);
      if (!ok)
        return failed("ctx.submit: " + ok.err().message);
      if (++submitted_ > max_submits)
        return failed("more than " + std::to_string(max_submits) + " sub-tasks in one run");
    } else if (what == "hive.submit_all" && nres >= 2 && lua_istable(co_, base + 1)) {
      s.request.what = run_request::kind::submit_all;
      int list = base + 1;
      auto n = static_cast<lua_Integer>(lua_rawlen(co_, list));
      if (n < 1 || n > 10'000)
        return failed("ctx.submit_all: give 1 to 10000 tasks");
      submitted_ += static_cast<size_t>(n);
      if (submitted_ > max_submits)
        return failed("more than " + std::to_string(max_submits) + " sub-tasks in one run");
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(co_, list, i);
        int item = lua_gettop(co_);
        if (!lua_istable(co_, item))
          return failed("ctx.submit_all: item " + std::to_string(i) + " is not a table");
        raw_field(co_, item, "type");
        raw_field(co_, item, "payload");
        raw_field(co_, item, "opts");
        task_record spec;
        auto ok = read_spec(item + 1, item + 2, item + 3, spec);
        lua_settop(co_, item - 1);
        if (!ok)
          return failed("ctx.submit_all: item " + std::to_string(i) + ": " + ok.err().message);
        s.request.specs.push_back(std::move(spec));
      }
    } else if (what == "hive.await" && nres >= 2 && lua_type(co_, base + 1) == LUA_TSTRING) {
      s.request.what = run_request::kind::await_task;
      s.request.task_id = lua_tostring(co_, base + 1);
    } else if (what == "hive.emit" && nres >= 3 && lua_type(co_, base + 1) == LUA_TSTRING) {
      if (++emitted_ > max_emits)
        return failed("more than " + std::to_string(max_emits) + " events in one run");
      s.request.what = run_request::kind::emit;
      s.request.spec.type = lua_tostring(co_, base + 1);
      auto data = to_json(co_, base + 2);
      if (!data)
        return failed("ctx.emit: " + data.err().message);
      s.request.spec.payload_json = *data;
    } else if (what == "hive.load_state") {
      s.request.what = run_request::kind::load_state;
      s.request.scope = script_name();
    } else if (what == "hive.save_state" && nres >= 2) {
      s.request.what = run_request::kind::save_state;
      s.request.scope = script_name();
      auto json = to_json(co_, base + 1);
      if (!json)
        return failed("ctx.state: " + json.err().message);
      s.request.state_json = *json;
    } else {
      return failed("the handler yielded outside ctx.submit / ctx.await / ctx.emit / ctx.state");
    }
    lua_pop(co_, nres);
    waiting_ = s.request.what;
    return s;
  }

  static constexpr size_t max_submits = 100'000;
  static constexpr size_t max_emits = 10'000;
  std::shared_ptr<sandbox> box_; ///< shared with the agent's host, outlives this run
  uint64_t steps_left_ = 0;
  size_t submitted_ = 0;
  size_t emitted_ = 0;
  uint64_t sequence_ = 0; ///< numbers this run's sub-tasks (their idempotency keys)
  std::string script_; ///< the script's name
  std::string type_;
  task_record task_;
  execution_context on_;
  std::chrono::steady_clock::time_point deadline_;
  lua_State* co_ = nullptr;
  int ref_ = LUA_NOREF;
  run_request::kind waiting_ = run_request::kind::submit;
};

/// A script-defined task type. Runs on the agent's actor in that agent's Lua state for the
/// script version (made on first use), as a coroutine that pauses while it waits for other
/// tasks.
class script_executor final : public executor {
public:
  script_executor(std::shared_ptr<const script> s, std::string type, sandbox_limits limits)
    : script_(std::move(s)), type_(std::move(type)), limits_(limits) {}

  execution_mode mode(const task_record&) const override { return execution_mode::resumable; }
  std::string_view owner() const noexcept override { return script_->name; }

  execution_result run(const task_record&, const execution_context&) const override {
    return execution_result::failure("script task types run on their agent (resumable)", false);
  }

  std::unique_ptr<resumable_run> begin(const task_record& task, const execution_context& on,
                                       agent_local& local) const override {
    auto& slot = local.slot("lua");
    if (!slot)
      slot = std::make_shared<lua_host>();
    auto host = std::static_pointer_cast<lua_host>(slot);
    auto key = std::make_pair(script_->name, script_->version);
    auto i = host->sandboxes.find(key);
    // A state past half its memory is replaced (between tasks, when none of its coroutines
    // can be paused: only states without paused runs are dropped, see use_count).
    if (i != host->sandboxes.end() && i->second->memory_used() > limits_.max_memory_bytes / 2
        && i->second.use_count() == 1) {
      host->sandboxes.erase(i);
      i = host->sandboxes.end();
    }
    if (i == host->sandboxes.end()) {
      if (host->sandboxes.size() >= sandboxes_per_agent)
        drop_old_versions(*host);
      auto box = prepared_sandbox(limits_);
      if (!box || !(*box)->run_chunk(script_->name, script_->source))
        return nullptr;
      i = host->sandboxes.emplace(key, std::shared_ptr<sandbox>{std::move(*box)}).first;
    }
    return std::make_unique<lua_run>(i->second, script_->name, type_, task, on);
  }

private:
  /// Keeps the newest version of each script.
  static void drop_old_versions(lua_host& host) {
    std::map<std::string, uint64_t> newest;
    for (const auto& kv : host.sandboxes)
      newest[kv.first.first] = std::max(newest[kv.first.first], kv.first.second);
    for (auto i = host.sandboxes.begin(); i != host.sandboxes.end();)
      i = i->first.second < newest[i->first.first] ? host.sandboxes.erase(i) : std::next(i);
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

result<unit_t> script_catalog::check_activation(const script& s) const {
  for (const auto& type : s.task_types) {
    if (builtins_.is_builtin(type))
      return make_error(errc::invalid_field,
                        "task type '" + type + "' is built in; a script cannot redefine it",
                        "source");
    for (const auto& [owner, other] : scripts_) {
      const auto& t = other->task_types;
      if (owner != s.name && std::find(t.begin(), t.end(), type) != t.end())
        return make_error(errc::illegal_state,
                          "task type '" + type + "' is defined by script '" + owner + "'",
                          "source");
    }
  }
  return unit;
}

result<unit_t> script_catalog::activate(std::shared_ptr<const script> s) {
  if (auto ok = check_activation(*s); !ok)
    return ok;
  if (auto old = scripts_.find(s->name); old != scripts_.end())
    for (const auto& type : old->second->task_types)
      types_.erase(type);
  for (const auto& type : s->task_types)
    types_[type] = std::make_shared<script_executor>(s, type, limits_);
  scripts_[s->name] = std::move(s);
  return unit;
}

bool script_catalog::load_stored(const persistence::stored_object& o) {
  auto types = check_script(o.name, o.body, limits_);
  if (!types) {
    runtime::log_warn("script", "stored script '" + o.name + "' does not load: "
                                  + types.err().message);
    return false;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  auto s = std::make_shared<script>(script{o.name, o.body, *types, o.updated_at, next_version_++});
  if (auto ok = activate(s); !ok) {
    runtime::log_warn("script", "stored script '" + o.name + "' is not active: "
                                  + ok.err().message);
    return false;
  }
  return true;
}

bool script_catalog::deactivate(std::string_view name) {
  auto i = scripts_.find(name);
  if (i == scripts_.end())
    return false;
  for (const auto& type : i->second->task_types)
    types_.erase(type);
  scripts_.erase(i);
  return true;
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
    if (full->has_value() && load_stored(**full))
      ++loaded;
  }
  return loaded;
}

void script_catalog::set_change_observer(std::function<void(const std::string&)> fn) {
  std::lock_guard<std::mutex> guard{observer_mtx_};
  changed_ = std::move(fn);
}

void script_catalog::notify(const std::string& name) const {
  std::function<void(const std::string&)> fn;
  {
    std::lock_guard<std::mutex> guard{observer_mtx_};
    fn = changed_;
  }
  if (fn)
    fn(name);
}

result<bool> script_catalog::reload(const std::string& name) {
  std::lock_guard<std::mutex> writing{write_mtx_};
  auto found = db_.find_object(script_kind, name);
  if (!found)
    return found.err();
  if (!found->has_value()) {
    std::lock_guard<std::mutex> guard{mtx_};
    deactivate(name);
    return false;
  }
  return load_stored(**found);
}

result<std::pair<script, bool>> script_catalog::put(const std::string& name,
                                                    const std::string& source) {
  if (auto ok = check_object_name(name, "name", true); !ok)
    return ok.err();
  auto types = check_script(name, source, limits_);
  if (!types)
    return types.err();
  auto now = runtime::system_clock::instance().now();
  // One writer at a time; lookups (the scheduler's) wait only for the map updates, never for
  // the store.
  std::lock_guard<std::mutex> writing{write_mtx_};
  auto s = std::make_shared<script>(script{name, source, *types, now, 0});
  bool created = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto ok = check_activation(*s); !ok)
      return ok.err(); // a refused script is never stored
    created = scripts_.find(name) == scripts_.end();
  }
  persistence::stored_object o{std::string{script_kind}, name, source, types_meta(*types), now};
  if (auto ok = db_.put_object(o); !ok)
    return ok.err();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    s->version = next_version_++;
    if (auto ok = activate(s); !ok)
      return ok.err(); // cannot happen: writers are serialised and it was checked
  }
  notify(name);
  return std::make_pair(*s, created);
}

result<bool> script_catalog::remove(const std::string& name) {
  std::lock_guard<std::mutex> writing{write_mtx_};
  auto gone = db_.delete_object(script_kind, name);
  if (!gone)
    return gone;
  bool was_active = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    was_active = deactivate(name);
  }
  if (was_active || *gone)
    notify(name);
  return was_active || *gone;
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

bool script_catalog::has_source(std::string_view name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return scripts_.find(name) != scripts_.end();
}

std::vector<std::string> script_catalog::names() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (const auto& kv : types_)
    out.push_back(kv.first);
  return out;
}

} // namespace hive::actors::scripting
