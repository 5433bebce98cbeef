// The executor registry.
#include "actors/executor.hpp"

#include <cassert>

namespace hive::actors {

void executor_registry::add(std::string name, std::shared_ptr<const executor> impl) {
  executors_[std::move(name)] = std::move(impl);
}

const executor* executor_registry::find(std::string_view name) const noexcept {
  auto i = executors_.find(name);
  return i == executors_.end() ? nullptr : i->second.get();
}

std::vector<std::string> executor_registry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : executors_)
    out.push_back(kv.first);
  return out;
}

void executor_registry::alias(std::string alias, std::string_view name) {
  auto i = executors_.find(name);
  assert(i != executors_.end());
  auto impl = i->second;
  executors_[std::move(alias)] = std::move(impl);
}

} // namespace hive::actors
