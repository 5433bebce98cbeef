// Agent directory: availability list and capability index kept in step with every change.
#include "actors/agent_directory.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cassert>

namespace hive::actors {

agent_entry* agent_directory::find(std::string_view id) {
  auto i = entries_.find(id);
  return i == entries_.end() ? nullptr : &i->second;
}

agent_entry& agent_directory::add(agent_record record) {
  auto id = record.id;
  auto [i, added] = entries_.emplace(std::move(id), agent_entry{});
  assert(added);
  auto& entry = i->second;
  entry.record = std::move(record);
  if (entry.record.type == agent_type::script) {
    entry.script = script_of(entry.record);
    ++script_agents_;
  }
  index_capabilities(entry);
  update_availability(entry);
  return entry;
}

void agent_directory::remove(std::string_view id) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return;
  auto& entry = i->second;
  entry.record.state = agent_state::offline;
  update_availability(entry);
  unindex_capabilities(entry);
  if (entry.record.type == agent_type::script)
    --script_agents_;
  if (entry.remote)
    --remote_;
  entries_.erase(i);
}

agent_entry& agent_directory::upsert_remote(agent_record record, caf::actor handle,
                                            uint32_t reported_load) {
  auto* entry = find(record.id);
  if (entry == nullptr) {
    auto& added = add(std::move(record));
    added.remote = true;
    ++remote_;
    added.handle = std::move(handle);
    added.reported_load = reported_load;
    update_availability(added);
    return added;
  }
  unindex_capabilities(*entry);
  if (entry->record.type == agent_type::script)
    --script_agents_;
  if (entry->record.metadata_json != record.metadata_json)
    entry->context.reset();
  entry->record = std::move(record);
  if (entry->record.type == agent_type::script) {
    entry->script = script_of(entry->record);
    ++script_agents_;
  }
  index_capabilities(*entry);
  entry->remote = true;
  if (entry->handle != handle)
    entry->suspended = false; // a new actor (its node restarted it): worth trying again
  entry->handle = std::move(handle);
  entry->reported_load = reported_load;
  update_availability(*entry);
  return *entry;
}

void agent_directory::set_node_offline(std::string_view node_id, timestamp_ms now) {
  for (auto& [id, entry] : entries_)
    if (entry.remote && entry.record.node_id == node_id
        && entry.record.state != agent_state::offline)
      set_state(entry, agent_state::offline, now);
}

void agent_directory::apply(agent_entry& entry, const agent_patch& patch, timestamp_ms now) {
  if (patch.name)
    entry.record.name = *patch.name;
  if (patch.metadata_json) {
    entry.record.metadata_json = *patch.metadata_json;
    entry.context.reset(); // the next assignment sees the new metadata
    if (entry.record.type == agent_type::script)
      entry.script = script_of(entry.record);
  }
  if (patch.max_concurrency)
    entry.record.max_concurrency = *patch.max_concurrency;
  if (patch.capabilities) {
    unindex_capabilities(entry);
    entry.record.capabilities = *patch.capabilities;
    index_capabilities(entry);
  }
  if (patch.state) {
    // Resuming goes to idle or working depending on the load.
    auto st = *patch.state;
    if (st == agent_state::idle && entry.load > 0)
      st = agent_state::working;
    entry.record.state = st;
  }
  entry.record.updated_at = now;
  update_availability(entry);
}

void agent_directory::set_state(agent_entry& entry, agent_state state, timestamp_ms now) {
  entry.record.state = state;
  entry.record.updated_at = now;
  update_availability(entry);
}

void agent_directory::set_suspended(agent_entry& entry, bool suspended) {
  entry.suspended = suspended;
  update_availability(entry);
}

void agent_directory::reserve(agent_entry& entry, timestamp_ms now) {
  ++entry.load;
  if (entry.record.state == agent_state::idle) {
    entry.record.state = agent_state::working;
    entry.record.updated_at = now;
  }
  update_availability(entry);
}

void agent_directory::lend_slot(agent_entry& entry, timestamp_ms now) {
  if (entry.load > 0)
    --entry.load;
  if (entry.load == 0 && entry.record.state == agent_state::working)
    entry.record.state = agent_state::idle;
  entry.record.updated_at = now;
  update_availability(entry);
}

void agent_directory::release(agent_entry& entry, bool success, double latency_ms, bool counted,
                              timestamp_ms now, bool frees_slot) {
  if (frees_slot && entry.load > 0)
    --entry.load;
  auto& rec = entry.record;
  if (counted) {
    if (success) {
      entry.crash_streak = 0;
      // Running mean over completed tasks.
      ++rec.tasks_completed;
      rec.mean_latency_ms += (latency_ms - rec.mean_latency_ms)
                             / static_cast<double>(rec.tasks_completed);
    } else {
      ++rec.tasks_failed;
    }
  }
  if (entry.load == 0 && rec.state == agent_state::working)
    rec.state = agent_state::idle;
  rec.updated_at = now;
  update_availability(entry);
}

std::string agent_directory::script_of(const agent_record& record) {
  rapidjson::Document doc;
  doc.Parse(record.metadata_json.c_str(), record.metadata_json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return {};
  auto it = doc.FindMember("script");
  if (it == doc.MemberEnd() || !it->value.IsString())
    return {};
  return std::string{it->value.GetString(), it->value.GetStringLength()};
}

agent_entry* agent_directory::select(const task_record& task, const agent_scorer& scorer,
                                     size_t sample_limit, std::string_view owner,
                                     bool local_only) {
  const std::vector<agent_entry*>* pool = &available_;
  if (!task.required_capabilities.empty()) {
    // Scan the agents of the rarest required capability.
    pool = nullptr;
    for (const auto& req : task.required_capabilities) {
      auto i = by_capability_.find(req.name);
      if (i == by_capability_.end())
        return nullptr;
      if (pool == nullptr || i->second.size() < pool->size())
        pool = &i->second;
    }
  }
  if (pool->empty())
    return nullptr;
  auto n = pool->size();
  auto start = rotation_++ % n;
  candidates_.clear();
  entries_scored_.clear();
  for (size_t k = 0; k < n && candidates_.size() < sample_limit; ++k) {
    auto* entry = (*pool)[(start + k) % n];
    if (!entry->available() || !meets_requirements(task, entry->record)
        || (local_only && entry->remote))
      continue;
    if (!entry->script.empty() && entry->script != owner)
      continue; // a script agent takes only its script's task types
    if (entry->record.type == agent_type::script && entry->script.empty())
      continue;
    candidates_.push_back({&entry->record, std::max(entry->load, entry->reported_load)});
    entries_scored_.push_back(entry);
  }
  if (candidates_.empty())
    return nullptr;
  scores_.resize(candidates_.size());
  scorer.score_batch(task, candidates_.data(), candidates_.size(), scores_.data());
  size_t best = 0;
  for (size_t i = 1; i < scores_.size(); ++i)
    if (scores_[i] > scores_[best])
      best = i;
  return entries_scored_[best];
}

std::array<uint64_t, agent_state_count> agent_directory::count_by_state() const {
  std::array<uint64_t, agent_state_count> out{};
  for (const auto& kv : entries_)
    ++out[static_cast<size_t>(kv.second.record.state)];
  return out;
}

void agent_directory::update_availability(agent_entry& entry) {
  bool listed = entry.available_pos != agent_entry::npos;
  bool should = entry.available();
  if (should && !listed) {
    entry.available_pos = available_.size();
    available_.push_back(&entry);
  } else if (!should && listed) {
    auto pos = entry.available_pos;
    available_[pos] = available_.back();
    available_[pos]->available_pos = pos;
    available_.pop_back();
    entry.available_pos = agent_entry::npos;
  }
}

void agent_directory::index_capabilities(agent_entry& entry) {
  for (const auto& cap : entry.record.capabilities)
    by_capability_[cap.name].push_back(&entry);
}

void agent_directory::unindex_capabilities(agent_entry& entry) {
  for (const auto& cap : entry.record.capabilities) {
    auto i = by_capability_.find(cap.name);
    if (i == by_capability_.end())
      continue;
    auto& list = i->second;
    list.erase(std::remove(list.begin(), list.end(), &entry), list.end());
    if (list.empty())
      by_capability_.erase(i);
  }
}

const execution_context_ptr& agent_directory::context_of(agent_entry& entry) {
  if (!entry.context)
    entry.context = std::make_shared<const execution_context>(
      execution_context{entry.record.id, entry.record.metadata_json});
  return entry.context;
}

} // namespace hive::actors
