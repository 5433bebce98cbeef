// Executors: the named pieces of work a task's `type` selects, and their registry.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/model.hpp"

namespace hive::actors {

/// How an agent runs an executor.
enum class execution_mode {
  inline_call, ///< cheap and non-blocking: called on the agent's actor thread
  blocking,    ///< may take long or block: called on the blocking thread pool
  resumable,   ///< runs on the agent's actor and may pause for other tasks (see begin())
};

struct execution_result {
  bool ok = true;
  std::string result_json;  ///< JSON value, when ok
  std::string error;        ///< what went wrong, when not ok
  bool retryable = true;    ///< false for errors a retry cannot fix (a bad payload)
  uint32_t ready_after_ms = 0; ///< deliver the result only after this delay (used by `sleep`)

  static execution_result success(std::string json, uint32_t after_ms = 0) {
    execution_result r;
    r.result_json = std::move(json);
    r.ready_after_ms = after_ms;
    return r;
  }
  static execution_result failure(std::string why, bool retryable) {
    execution_result r;
    r.ok = false;
    r.error = std::move(why);
    r.retryable = retryable;
    return r;
  }
};

/// The agent a task runs on, as an executor sees it.
struct execution_context {
  std::string agent_id;
  std::string agent_metadata_json; ///< the agent's `metadata` object, as JSON text
};
using execution_context_ptr = std::shared_ptr<const execution_context>;

/// What a paused run needs before it can go on; the agent actor does it and resumes the run
/// with the answer.
struct run_request {
  enum class kind : uint8_t {
    submit,     ///< create `spec` as a new task; answer: the task as accepted
    submit_all, ///< create `specs` in one batch; answer: result_json = ["id", ...]
    await_task, ///< wait until `task_id` is finished; answer: the task as it ended
    load_state, ///< read this agent's stored state; answer: a task_record whose result holds it
    save_state, ///< store `state_json` as this agent's state; answer: an empty task_record
    emit,       ///< publish a script_event named spec.type with data spec.payload_json
  };
  kind what = kind::submit;
  task_record spec;
  std::vector<task_record> specs; ///< submit_all
  std::string task_id;
  std::string state_json;
  std::string scope; ///< load/save_state: whose state (the script's name; state is per agent and script)
};

/// One step of a resumable run: finished with `result`, or paused on `request`.
struct run_step {
  bool done = false;
  execution_result result;
  run_request request;
};

/// A run that pauses without holding a thread (a Lua coroutine). Driven by the agent actor,
/// always on its thread: start(), then resume() with the answer to each request.
class resumable_run {
public:
  virtual ~resumable_run() = default;
  virtual run_step start() = 0;
  virtual run_step resume(result<task_record> answer) = 0;
};

/// What an agent actor keeps for executors between tasks (a Lua state per script, say),
/// lost when the actor restarts. One slot per key.
class agent_local {
public:
  std::shared_ptr<void>& slot(const std::string& key) { return slots_[key]; }

private:
  std::map<std::string, std::shared_ptr<void>> slots_;
};

/// One kind of work. Implementations are stateless or internally synchronised: one instance
/// serves every agent, possibly on several threads at once.
class executor {
public:
  virtual ~executor() = default;
  virtual execution_mode mode(const task_record& task) const = 0;
  /// Runs the task for the agent `on`; must not throw for bad input (answer a non-retryable
  /// failure instead). Not called for resumable executors.
  virtual execution_result run(const task_record& task, const execution_context& on) const = 0;
  /// For execution_mode::resumable: the run of `task` on the agent `on`, whose actor keeps
  /// `local` for it.
  virtual std::unique_ptr<resumable_run> begin(const task_record& task,
                                               const execution_context& on,
                                               agent_local& local) const {
    return nullptr;
  }
  /// The script that defines this task type; empty for built-in ones.
  virtual std::string_view owner() const noexcept { return {}; }
};

/// Task types that come and go while the server runs (those of Lua scripts). Thread-safe.
class dynamic_executors {
public:
  virtual ~dynamic_executors() = default;
  virtual std::shared_ptr<const executor> find(std::string_view name) const = 0;
  virtual std::vector<std::string> names() const = 0;
  /// Whether a source (a script) of this name exists and defines at least one type.
  virtual bool has_source(std::string_view name) const = 0;
};

/// Executors by name. The built-in ones are filled at start by explicit calls (see
/// register_builtin_executors) and read-only afterwards, so they are shared across threads
/// without locks; a `dynamic_executors` source set at start adds the types that change.
class executor_registry {
public:
  void add(std::string name, std::shared_ptr<const executor> impl);
  /// A built-in executor first, then the dynamic source's. The pointer keeps the executor
  /// alive while a task runs on it, even if its script is replaced meanwhile.
  std::shared_ptr<const executor> find(std::string_view name) const;
  bool is_builtin(std::string_view name) const noexcept;
  /// Whether the dynamic source has a script of this name.
  bool has_script(std::string_view name) const { return dynamic_ != nullptr && dynamic_->has_source(name); }
  std::vector<std::string> names() const; ///< sorted, built-in and dynamic
  /// Marks `alias` as another name for `name` (which must be registered).
  void alias(std::string alias, std::string_view name);
  /// Set once at start, before the registry is shared; `source` must outlive the registry.
  void set_dynamic(const dynamic_executors* source) noexcept { dynamic_ = source; }

private:
  std::map<std::string, std::shared_ptr<const executor>, std::less<>> executors_;
  const dynamic_executors* dynamic_ = nullptr;
};

/// Registers `echo`, `sleep`, `nlp.analyze`, `sim` (see executors/sim.cpp) and `test` (the
/// performance guide's load-test type, an alias of `echo`).
void register_builtin_executors(executor_registry& registry);

} // namespace hive::actors
