// Lua scripts that add task types: checked, stored, and turned into executors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/executor.hpp"
#include "actors/scripting/sandbox.hpp"
#include "persistence/store.hpp"

namespace hive::actors::scripting {

/// Store kind of scripts (persistence::stored_object::kind): body = source, meta = the task
/// types it defines.
inline constexpr std::string_view script_kind = "script";

struct script {
  std::string name;
  std::string source;
  std::vector<std::string> task_types; ///< what it registers with hive.task_type
  int64_t updated_at = 0;
  uint64_t version = 0; ///< increases with each new source in this process
};

/// Compiles `source` and runs its top level in a throwaway sandbox; returns the task types it
/// registers (`hive.task_type(name, function(task, ctx) ... end)`). A syntax or run-time error
/// is invalid_field "line N: message"; a script that registers nothing is refused too.
result<std::vector<std::string>> check_script(std::string_view name, std::string_view source,
                                              const sandbox_limits& limits);

/// The scripts of this hive and the task types they define. Replacing a script makes new
/// tasks use the new version; tasks already running finish on the old one (their executor
/// holds it). Thread-safe; put, remove and load_all do store I/O (call them off actor threads).
class script_catalog final : public dynamic_executors {
public:
  /// `db` and `builtins` must outlive the catalog. Script types may not shadow built-ins.
  script_catalog(persistence::store& db, const executor_registry& builtins,
                 sandbox_limits limits);

  /// Loads every stored script (at start). A stored script that no longer checks is logged
  /// and skipped. Returns how many were loaded.
  result<size_t> load_all();
  /// Checks, stores and activates a script; answers it and whether it is new.
  result<std::pair<script, bool>> put(const std::string& name, const std::string& source);
  /// Whether there was such a script.
  result<bool> remove(const std::string& name);
  /// Reads one script again from the store (another node of a cluster changed it): activates
  /// the stored version, or drops the script when the store has none. Answers whether it is
  /// active now.
  result<bool> reload(const std::string& name);
  /// Called with a script's name after each put or remove here (cluster mode: to tell the
  /// other nodes). Runs on the caller's thread and must not block; may be set while serving.
  void set_change_observer(std::function<void(const std::string&)> fn);
  std::vector<script> list() const; ///< by name
  std::optional<script> get(std::string_view name) const;

  std::shared_ptr<const executor> find(std::string_view type) const override;
  std::vector<std::string> names() const override;
  bool has_source(std::string_view name) const override;

private:
  /// Whether `s` could be made active: no built-in type, no type of another script.
  /// Under mtx_.
  result<unit_t> check_activation(const script& s) const;
  /// Makes `s` active (under mtx_): its types replace those of its previous version.
  result<unit_t> activate(std::shared_ptr<const script> s);
  /// Checks and activates a stored script (load_all, reload); logs why when it cannot.
  bool load_stored(const persistence::stored_object& o);
  /// Drops a script and its types (under mtx_); whether it was there.
  bool deactivate(std::string_view name);

  persistence::store& db_;
  const executor_registry& builtins_;
  sandbox_limits limits_;
  std::mutex write_mtx_;   ///< put and remove, one at a time (store I/O happens under it)
  mutable std::mutex mtx_; ///< the maps below (never held during store I/O)
  uint64_t next_version_ = 1;
  std::map<std::string, std::shared_ptr<const script>, std::less<>> scripts_;
  std::map<std::string, std::shared_ptr<const executor>, std::less<>> types_;
  /// Tells the observer (if any) that `name` changed.
  void notify(const std::string& name) const;

  mutable std::mutex observer_mtx_;
  std::function<void(const std::string&)> changed_; ///< under observer_mtx_
};

} // namespace hive::actors::scripting
