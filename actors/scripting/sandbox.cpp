// The Lua sandbox: chosen libraries, a counting allocator and an instruction hook.
#include "actors/scripting/sandbox.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include <lua.hpp>

namespace hive::actors::scripting {
namespace {

constexpr int hook_every = 1000; ///< instructions between hook calls

sandbox* owner(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<sandbox*>(ud);
}

/// load(chunk [, name [, mode [, env]]]) with the mode forced to text: no binary chunks. The
/// original load is the closure's upvalue (out of the scripts' reach).
int load_text(lua_State* L) {
  int given = lua_gettop(L);
  lua_settop(L, given < 3 ? 3 : given); // env stays absent unless given
  lua_pushstring(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int traceback(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg != nullptr ? msg : "(error is not a string)", 1);
  return 1;
}

} // namespace

void* sandbox::allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* self = static_cast<sandbox*>(ud);
  if (ptr == nullptr)
    old_size = 0; // for a new block Lua passes the object's type here
  if (new_size == 0) {
    std::free(ptr);
    self->used_ -= old_size;
    return nullptr;
  }
  if (new_size > old_size && self->used_ + (new_size - old_size) > self->limits_.max_memory_bytes)
    return nullptr; // Lua turns this into a memory error
  void* out = std::realloc(ptr, new_size);
  if (out != nullptr)
    self->used_ = self->used_ - old_size + new_size;
  return out;
}

void sandbox::count_hook(lua_State* L, lua_Debug*) {
  auto* self = owner(L);
  if (self->steps_left_ < static_cast<uint64_t>(hook_every)) {
    self->stop_reason_ = "instruction budget exceeded";
    // From now on every instruction errors, so a pcall around the loop cannot swallow the
    // stop: the first instruction outside it raises again. (call/resume set the count back.)
    lua_sethook(L, &sandbox::count_hook, LUA_MASKCOUNT, 1);
    // Lua's formats lack %llu; a plain array (no destructor) survives the longjmp.
    char msg[96];
    std::snprintf(msg, sizeof msg, "instruction budget of %llu exceeded",
                  static_cast<unsigned long long>(self->limits_.max_instructions));
    luaL_error(L, "%s", msg);
    return;
  }
  self->steps_left_ -= hook_every;
  if (std::chrono::steady_clock::now() > self->deadline_) {
    self->steps_left_ = 0; // every later hook stops too, even under pcall
    lua_sethook(L, &sandbox::count_hook, LUA_MASKCOUNT, 1);
    self->stop_reason_ = "time limit exceeded";
    luaL_error(L, "the task's time limit was exceeded");
  }
}

result<std::unique_ptr<sandbox>> sandbox::create(const sandbox_limits& limits) {
  std::unique_ptr<sandbox> box{new sandbox()};
  box->limits_ = limits;
  box->L_ = lua_newstate(&sandbox::allocate, box.get());
  if (box->L_ == nullptr)
    return make_error(errc::internal, "cannot create a Lua state");
  lua_State* L = box->L_;
  static const luaL_Reg libs[] = {
    {LUA_GNAME, luaopen_base},          {LUA_STRLIBNAME, luaopen_string},
    {LUA_TABLIBNAME, luaopen_table},    {LUA_MATHLIBNAME, luaopen_math},
    {LUA_UTF8LIBNAME, luaopen_utf8},    {LUA_COLIBNAME, luaopen_coroutine},
  };
  for (const auto& lib : libs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  // Out of the base library: files, and binary chunks through load.
  for (const char* name : {"dofile", "loadfile"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_getglobal(L, "load");
  lua_pushcclosure(L, load_text, 1);
  lua_setglobal(L, "load");
  // string.dump makes binary chunks.
  lua_getglobal(L, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  lua_sethook(L, &sandbox::count_hook, LUA_MASKCOUNT, hook_every);
  box->steps_left_ = limits.max_instructions;
  box->deadline_ = std::chrono::steady_clock::time_point::max();
  return box;
}

sandbox::~sandbox() {
  if (L_ != nullptr)
    lua_close(L_);
}

result<unit_t> sandbox::run_chunk(std::string_view name, std::string_view source, int* line_out,
                                  bool keep_result) {
  std::string chunk = "=" + std::string{name};
  int line = 0;
  if (luaL_loadbufferx(L_, source.data(), source.size(), chunk.c_str(), "t") != LUA_OK) {
    auto text = tidy_lua_error(lua_tostring(L_, -1), line);
    lua_pop(L_, 1);
    if (line_out != nullptr)
      *line_out = line;
    return make_error(errc::invalid_field, text, "source");
  }
  auto ok = call(0, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  if (!ok) {
    auto text = tidy_lua_error(ok.err().message, line);
    if (line_out != nullptr)
      *line_out = line;
    return make_error(errc::invalid_field, text, "source");
  }
  if (!keep_result)
    lua_pop(L_, 1);
  return unit;
}

result<unit_t> sandbox::call(int nargs, std::chrono::steady_clock::time_point deadline) {
  int base = lua_gettop(L_) - nargs; // the function's slot
  lua_pushcfunction(L_, traceback);
  lua_insert(L_, base);
  steps_left_ = limits_.max_instructions;
  deadline_ = deadline;
  stop_reason_ = nullptr;
  lua_sethook(L_, &sandbox::count_hook, LUA_MASKCOUNT, hook_every);
  int rc = lua_pcall(L_, nargs, 1, base);
  lua_remove(L_, base); // the handler
  if (rc == LUA_OK)
    return unit;
  std::string message;
  if (rc == LUA_ERRMEM)
    message = "memory limit of " + std::to_string(limits_.max_memory_bytes >> 20)
              + " MB exceeded";
  else
    message = lua_tostring(L_, -1) != nullptr ? lua_tostring(L_, -1) : "unknown Lua error";
  lua_pop(L_, 1);
  lua_settop(L_, base - 1);
  lua_gc(L_, LUA_GCCOLLECT);
  return make_error(errc::invalid_field, std::move(message));
}

int sandbox::resume(lua_State* co, int nargs, std::chrono::steady_clock::time_point deadline,
                    uint64_t& steps_left, int& nresults, std::string& error_out) {
  steps_left_ = steps_left;
  deadline_ = deadline;
  stop_reason_ = nullptr;
  nresults = 0;
  lua_sethook(co, &sandbox::count_hook, LUA_MASKCOUNT, hook_every);
  int rc = lua_resume(co, L_, nargs, &nresults);
  steps_left = steps_left_;
  if (rc == LUA_OK || rc == LUA_YIELD)
    return rc;
  if (rc == LUA_ERRMEM) {
    error_out = "memory limit of " + std::to_string(limits_.max_memory_bytes >> 20)
                + " MB exceeded";
  } else {
    const char* msg = lua_tostring(co, -1);
    luaL_traceback(L_, co, msg != nullptr ? msg : "(error is not a string)", 0);
    error_out = lua_tostring(L_, -1);
    lua_pop(L_, 1);
  }
  lua_gc(L_, LUA_GCCOLLECT);
  return rc;
}

std::string tidy_lua_error(std::string_view full, int& line) {
  line = 0;
  // Only the message's first line carries its position; a traceback may follow.
  auto text = full.substr(0, full.find('\n'));
  // "name:12: message" (chunk names start with '=') or "[string \"...\"]:12: message".
  auto colon = text.find(':');
  while (colon != std::string_view::npos) {
    size_t i = colon + 1;
    size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++digits;
    }
    if (digits > 0 && i < text.size() && text[i] == ':') {
      line = std::atoi(std::string{text.substr(colon + 1, digits)}.c_str());
      auto rest = text.substr(i + 1);
      while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
      return "line " + std::to_string(line) + ": " + std::string{rest}
             + std::string{full.substr(text.size())};
    }
    colon = text.find(':', colon + 1);
  }
  return std::string{full};
}

} // namespace hive::actors::scripting
