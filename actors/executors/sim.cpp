// The sim executor: hidden per-agent skill and latency, deterministic outcomes.
#include "actors/executors/sim.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "inference/text_features.hpp"

namespace hive::actors {
namespace {

/// A number in [0, 1) that depends only on the run.
double draw(const task_record& task, const execution_context& on) {
  return inference::unit_hash(
    inference::fnv1a(task.id + "#" + std::to_string(task.attempts) + "@" + on.agent_id));
}

/// `traits[name][kind]` as a number, else `traits[default_name]`, else `fallback`.
double trait(const rapidjson::Value* traits, const char* name, const char* default_name,
             const std::string& kind, double fallback) {
  if (traits == nullptr || !traits->IsObject())
    return fallback;
  if (auto t = traits->FindMember(name); t != traits->MemberEnd() && t->value.IsObject())
    if (auto v = t->value.FindMember(kind.c_str()); v != t->value.MemberEnd() && v->value.IsNumber())
      return v->value.GetDouble();
  if (auto d = traits->FindMember(default_name); d != traits->MemberEnd() && d->value.IsNumber())
    return d->value.GetDouble();
  return fallback;
}

class sim_executor final : public executor {
public:
  execution_mode mode(const task_record&) const override { return execution_mode::inline_call; }

  execution_result run(const task_record& task, const execution_context& on) const override {
    rapidjson::Document payload;
    payload.Parse(task.payload_json.data(), task.payload_json.size());
    if (payload.HasParseError() || !payload.IsObject())
      return execution_result::failure("payload must be a JSON object", false);
    auto k = payload.FindMember("kind");
    if (k == payload.MemberEnd() || !k->value.IsString())
      return execution_result::failure("payload.kind must be a string", false);
    std::string kind{k->value.GetString(), k->value.GetStringLength()};
    double work = 1;
    if (auto w = payload.FindMember("work"); w != payload.MemberEnd()) {
      if (!w->value.IsNumber() || w->value.GetDouble() < 0 || w->value.GetDouble() > 1000)
        return execution_result::failure("payload.work must be a number from 0 to 1000", false);
      work = w->value.GetDouble();
    }

    rapidjson::Document meta;
    meta.Parse(on.agent_metadata_json.data(), on.agent_metadata_json.size());
    const rapidjson::Value* traits = nullptr;
    if (!meta.HasParseError() && meta.IsObject())
      if (auto s = meta.FindMember("sim"); s != meta.MemberEnd())
        traits = &s->value;
    double skill = std::clamp(trait(traits, "skill", "default_skill", kind, 0.5), 0.0, 1.0);
    double latency = std::clamp(trait(traits, "latency_ms", "default_latency_ms", kind, 10.0),
                                0.0, 3'600'000.0);
    auto after = static_cast<uint32_t>(std::lround(std::min(latency * work, 3'600'000.0)));

    if (draw(task, on) >= skill) {
      auto r = execution_result::failure(
        "simulated failure of kind '" + kind + "' (skill " + std::to_string(skill) + ")", true);
      r.ready_after_ms = after;
      return r;
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    w.StartObject();
    w.Key("kind");
    w.String(kind.c_str(), static_cast<rapidjson::SizeType>(kind.size()));
    w.Key("skill");
    w.Double(skill);
    w.Key("latency_ms");
    w.Uint(after);
    w.EndObject();
    return execution_result::success(std::string{buf.GetString(), buf.GetSize()}, after);
  }
};

} // namespace

std::shared_ptr<const executor> make_sim_executor() {
  return std::make_shared<sim_executor>();
}

} // namespace hive::actors
