// A Lua 5.4 state for user scripts, with only the safe libraries, a memory limit and an
// instruction budget.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/error.hpp"

struct lua_State;
struct lua_Debug;

namespace hive::actors::scripting {

struct sandbox_limits {
  size_t max_memory_bytes = 64u << 20; ///< the allocator refuses beyond this (a Lua error)
  uint64_t max_instructions = 100'000'000; ///< per call (counted in steps of 1,000)
};

/// One Lua state. Opened with base (without dofile, loadfile, and with a `load` that takes
/// text only), string, table, math, utf8 and coroutine; no os, io, package/require or debug.
/// Every call through `call` counts instructions and watches a deadline, so an endless loop
/// becomes an error; the allocator counts bytes, so a memory bomb becomes an error. Not
/// thread-safe: one thread at a time.
class sandbox {
public:
  static result<std::unique_ptr<sandbox>> create(const sandbox_limits& limits);
  ~sandbox();
  sandbox(const sandbox&) = delete;
  sandbox& operator=(const sandbox&) = delete;

  lua_State* state() const noexcept { return L_; }

  /// Compiles `source` (text only) as chunk `name` and runs it. A syntax error comes back as
  /// invalid_field with "line N: message" and the line in `line_out` (when given).
  /// With `keep_result`, the chunk's first result stays on the stack.
  result<unit_t> run_chunk(std::string_view name, std::string_view source, int* line_out = nullptr,
                           bool keep_result = false);

  /// Calls the function on top of the stack below its `nargs` arguments, with the instruction
  /// budget and `deadline`, leaving one result. A Lua error (or the budget, the deadline, the
  /// memory limit) is returned with its message and a traceback.
  result<unit_t> call(int nargs, std::chrono::steady_clock::time_point deadline);

  /// Resumes coroutine `co` (a thread of this state) with `nargs` values on its stack, with
  /// the instruction budget and `deadline`. Returns LUA_OK (finished; its results on `co`),
  /// LUA_YIELD (paused; the yielded values on `co`), or an error status with the message and
  /// a traceback in `error_out`. `nresults` is set to the number of values.
  /// `steps_left` is the run's instruction budget, carried across its resumes.
  int resume(lua_State* co, int nargs, std::chrono::steady_clock::time_point deadline,
             uint64_t& steps_left, int& nresults, std::string& error_out);
  uint64_t max_instructions() const noexcept { return limits_.max_instructions; }

  size_t memory_used() const noexcept { return used_; }

private:
  sandbox() = default;
  static void* allocate(void* ud, void* ptr, size_t old_size, size_t new_size);
  static void count_hook(lua_State* L, lua_Debug* ar);

  lua_State* L_ = nullptr;
  sandbox_limits limits_;
  size_t used_ = 0;
  // The running call's budget (read by the hook).
  uint64_t steps_left_ = 0;
  std::chrono::steady_clock::time_point deadline_{};
  const char* stop_reason_ = nullptr;
};

/// "line N: message" from a Lua error text "[string \"name\"]:N: message" (as it is when the
/// text has no such prefix); sets `line` to N or 0.
std::string tidy_lua_error(std::string_view text, int& line);

} // namespace hive::actors::scripting
