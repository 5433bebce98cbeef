// The built-in executors: echo, sleep and nlp.analyze (sim lives in sim.cpp).
#include <algorithm>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/executor.hpp"
#include "actors/executors/sim.hpp"
#include "inference/text_analysis.hpp"

namespace hive::actors {
namespace {

/// Parses the task's payload; the codec already checked it is a JSON object.
bool parse_payload(const task_record& task, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseIterativeFlag>(task.payload_json.data(), task.payload_json.size());
  return !doc.HasParseError() && doc.IsObject();
}

/// Returns the payload unchanged.
class echo_executor final : public executor {
public:
  execution_mode mode(const task_record&) const override { return execution_mode::inline_call; }
  execution_result run(const task_record& task, const execution_context&) const override {
    return execution_result::success(task.payload_json);
  }
};

/// Completes after payload.ms milliseconds without holding a thread (for scheduling and
/// timeout tests).
class sleep_executor final : public executor {
public:
  static constexpr int64_t max_ms = 3'600'000;

  execution_mode mode(const task_record&) const override { return execution_mode::inline_call; }
  execution_result run(const task_record& task, const execution_context&) const override {
    rapidjson::Document doc;
    if (!parse_payload(task, doc))
      return execution_result::failure("payload must be a JSON object", false);
    auto it = doc.FindMember("ms");
    if (it == doc.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() < 0
        || it->value.GetInt64() > max_ms)
      return execution_result::failure(
        "payload.ms must be a whole number of milliseconds between 0 and 3600000", false);
    auto ms = it->value.GetInt64();
    return execution_result::success("{\"slept_ms\":" + std::to_string(ms) + "}",
                                     static_cast<uint32_t>(ms));
  }
};

/// Text analysis of payload.text (or the description when there is no text).
class nlp_analyze_executor final : public executor {
public:
  /// Short texts are analysed inline; long ones on the blocking pool.
  static constexpr size_t inline_limit = 4096;

  execution_mode mode(const task_record& task) const override {
    return task.payload_json.size() + task.description.size() > inline_limit
             ? execution_mode::blocking
             : execution_mode::inline_call;
  }

  execution_result run(const task_record& task, const execution_context&) const override {
    rapidjson::Document doc;
    if (!parse_payload(task, doc))
      return execution_result::failure("payload must be a JSON object", false);
    std::string text = task.description;
    if (auto it = doc.FindMember("text"); it != doc.MemberEnd()) {
      if (!it->value.IsString())
        return execution_result::failure("payload.text must be a string", false);
      text.assign(it->value.GetString(), it->value.GetStringLength());
    }
    if (text.empty())
      return execution_result::failure(
        "nothing to analyze: give payload.text or a description", false);
    inference::analyze_options opts;
    if (auto it = doc.FindMember("max_keywords"); it != doc.MemberEnd() && it->value.IsUint())
      opts.max_keywords = std::min(100u, it->value.GetUint());
    if (auto it = doc.FindMember("summary_sentences"); it != doc.MemberEnd() && it->value.IsUint())
      opts.summary_sentences = std::min(20u, it->value.GetUint());
    auto analysis = inference::analyze_text(text, opts);
    return execution_result::success(to_json(analysis));
  }

private:
  static std::string to_json(const inference::text_analysis& a) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    w.StartObject();
    w.Key("token_count");
    w.Uint64(a.token_count);
    w.Key("unique_token_count");
    w.Uint64(a.unique_token_count);
    w.Key("sentence_count");
    w.Uint64(a.sentence_count);
    w.Key("keywords");
    w.StartArray();
    for (const auto& k : a.keywords) {
      w.StartObject();
      w.Key("term");
      w.String(k.term.c_str(), static_cast<rapidjson::SizeType>(k.term.size()));
      w.Key("score");
      w.Double(k.score);
      w.EndObject();
    }
    w.EndArray();
    w.Key("sentiment");
    w.StartObject();
    w.Key("score");
    w.Double(a.sentiment.score);
    w.Key("label");
    w.String(a.sentiment.label.c_str());
    w.Key("positive_hits");
    w.Int(a.sentiment.positive_hits);
    w.Key("negative_hits");
    w.Int(a.sentiment.negative_hits);
    w.EndObject();
    w.Key("summary");
    w.String(a.summary.c_str(), static_cast<rapidjson::SizeType>(a.summary.size()));
    w.EndObject();
    return std::string{buf.GetString(), buf.GetSize()};
  }
};

} // namespace

void register_builtin_executors(executor_registry& registry) {
  registry.add("echo", std::make_shared<echo_executor>());
  registry.add("sleep", std::make_shared<sleep_executor>());
  registry.add("nlp.analyze", std::make_shared<nlp_analyze_executor>());
  registry.add("sim", make_sim_executor());
  registry.alias("test", "echo");
}

} // namespace hive::actors
