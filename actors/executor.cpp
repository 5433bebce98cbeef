// The executor registry.
#include "actors/executor.hpp"

#include <algorithm>
#include <cassert>

namespace hive::actors {

void executor_registry::add(std::string name, std::shared_ptr<const executor> impl) {
  executors_[std::move(name)] = std::move(impl);
}

std::shared_ptr<const executor> executor_registry::find(std::string_view name) const {
  if (auto i = executors_.find(name); i != executors_.end())
    return i->second;
  return dynamic_ != nullptr ? dynamic_->find(name) : nullptr;
}

bool executor_registry::is_builtin(std::string_view name) const noexcept {
  return executors_.find(name) != executors_.end();
}

std::vector<std::string> executor_registry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : executors_)
    out.push_back(kv.first);
  if (dynamic_ != nullptr) {
    auto more = dynamic_->names();
    out.insert(out.end(), more.begin(), more.end());
    std::sort(out.begin(), out.end());
  }
  return out;
}

void executor_registry::alias(std::string alias, std::string_view name) {
  auto i = executors_.find(name);
  assert(i != executors_.end());
  auto impl = i->second;
  executors_[std::move(alias)] = std::move(impl);
}

} // namespace hive::actors
