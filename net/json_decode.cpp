// Decoding the HTTP API's JSON bodies into core structs, naming the field of every error.
// Every Get*() is guarded by an Is*() (RapidJSON asserts otherwise).
#include "net/json_codec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "runtime/ids.hpp"

namespace hive::net {
namespace {

using value = rapidjson::Value;
using writer = rapidjson::Writer<rapidjson::StringBuffer>;

error bad_field(std::string field, std::string message) {
  auto text = field + " " + message; // before `field` is moved into the error
  return make_error(errc::invalid_field, std::move(text), std::move(field));
}

/// True when `s` holds a UTF-16 surrogate encoded as UTF-8 (0xED 0xA0-0xBF ...): what RapidJSON
/// makes of an escape such as "\udc00" without its pair. Not valid UTF-8.
bool has_surrogate(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0)
      return true;
  return false;
}

/// Any string or member name of `root` with an unpaired surrogate; walked without recursion.
bool holds_lone_surrogate(const value& root) {
  std::vector<const value*> todo{&root};
  while (!todo.empty()) {
    const value* v = todo.back();
    todo.pop_back();
    if (v->IsString()) {
      if (has_surrogate({v->GetString(), v->GetStringLength()}))
        return true;
    } else if (v->IsObject()) {
      for (auto& m : v->GetObject()) {
        if (has_surrogate({m.name.GetString(), m.name.GetStringLength()}))
          return true;
        todo.push_back(&m.value);
      }
    } else if (v->IsArray()) {
      for (auto& e : v->GetArray())
        todo.push_back(&e);
    }
  }
  return false;
}

/// Names are identifiers: no tabs, newlines, NUL or other control characters.
bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

result<unit_t> parse(std::string_view body, rapidjson::Document& doc) {
  if (body.empty())
    return make_error(errc::malformed_json, "request body is empty; expected a JSON object");
  // Iterative: a deeply nested body must not exhaust the I/O thread's stack. Validated UTF-8:
  // what is stored and sent on (PostgreSQL text, WebSocket text frames) must be valid.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
    body.data(), body.size());
  if (doc.HasParseError())
    return make_error(errc::malformed_json,
                      std::string{"malformed JSON at offset "} + std::to_string(doc.GetErrorOffset())
                        + ": " + rapidjson::GetParseError_En(doc.GetParseError()));
  if (holds_lone_surrogate(doc))
    return make_error(errc::malformed_json,
                      "a string holds an unpaired surrogate escape (\\uD800-\\uDFFF), which is "
                      "not a character");
  return unit;
}

/// How deep `root` nests (a scalar is 1), counted without recursion; stops counting past
/// `limit`.
size_t nesting_depth(const value& root, size_t limit) {
  std::vector<std::pair<const value*, size_t>> todo{{&root, 1}};
  size_t deepest = 0;
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    if (deepest > limit)
      break;
    if (v->IsObject())
      for (auto& m : v->GetObject())
        todo.emplace_back(&m.value, depth + 1);
    else if (v->IsArray())
      for (auto& e : v->GetArray())
        todo.emplace_back(&e, depth + 1);
  }
  return deepest;
}

/// Checks that a free-form JSON object (payload, metadata) nests at most `limit` levels, so that
/// writing it (recursive in RapidJSON) stays cheap on the stack.
std::optional<error> check_depth(const value& v, const std::string& field, size_t limit) {
  if (nesting_depth(v, limit) > limit)
    return bad_field(field, "nests deeper than " + std::to_string(limit) + " levels");
  return std::nullopt;
}

std::string to_json_text(const value& v) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  v.Accept(w);
  return std::string{buf.GetString(), buf.GetSize()};
}

const value* member(const value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull())
    return nullptr;
  return &it->value;
}

result<std::string> get_string(const value& obj, const char* name, const std::string& prefix,
                               size_t max_bytes, bool required) {
  const value* v = member(obj, name);
  if (v == nullptr) {
    if (required)
      return bad_field(prefix + name, "is required");
    return std::string{};
  }
  if (!v->IsString())
    return bad_field(prefix + name, "must be a string");
  if (v->GetStringLength() > max_bytes)
    return bad_field(prefix + name, "must be at most " + std::to_string(max_bytes) + " bytes");
  return std::string{v->GetString(), v->GetStringLength()};
}

result<double> get_unit_interval(const value& v, const std::string& field) {
  if (!v.IsNumber())
    return bad_field(field, "must be a number between 0 and 1");
  double x = v.GetDouble();
  if (!(x >= 0.0 && x <= 1.0))
    return bad_field(field, "must be between 0 and 1");
  return x;
}

result<uint32_t> get_uint(const value& v, const std::string& field, uint32_t lo, uint32_t hi) {
  if (!v.IsUint() || v.GetUint() < lo || v.GetUint() > hi)
    return bad_field(field, "must be a whole number between " + std::to_string(lo) + " and "
                              + std::to_string(hi));
  return v.GetUint();
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

result<std::vector<capability>> decode_capabilities(const value& v, const std::string& field,
                                                    const codec_limits& limits) {
  if (!v.IsArray())
    return bad_field(field, "must be an array of {name, proficiency, learning_rate}");
  if (v.Size() > limits.max_capabilities)
    return bad_field(field, "has more than " + std::to_string(limits.max_capabilities)
                              + " entries");
  std::vector<capability> out;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    auto item_field = field + "[" + std::to_string(i) + "]";
    capability cap;
    const auto& item = v[i];
    if (item.IsString()) {
      if (item.GetStringLength() > limits.max_name_bytes)
        return bad_field(item_field, "must be at most " + std::to_string(limits.max_name_bytes)
                                       + " bytes");
      cap.name.assign(item.GetString(), item.GetStringLength());
    } else if (item.IsObject()) {
      auto name = get_string(item, "name", item_field + ".", limits.max_name_bytes, true);
      if (!name)
        return std::move(name).err();
      cap.name = std::move(*name);
      if (const value* p = member(item, "proficiency")) {
        auto x = get_unit_interval(*p, item_field + ".proficiency");
        if (!x)
          return std::move(x).err();
        cap.proficiency = *x;
      }
      if (const value* p = member(item, "learning_rate")) {
        auto x = get_unit_interval(*p, item_field + ".learning_rate");
        if (!x)
          return std::move(x).err();
        cap.learning_rate = *x;
      }
    } else {
      return bad_field(item_field, "must be an object {name, proficiency, learning_rate}");
    }
    if (cap.name.empty())
      return bad_field(item_field + ".name", "must not be empty");
    if (has_control_char(cap.name))
      return bad_field(item_field + ".name", "must not contain control characters");
    for (const auto& prev : out)
      if (prev.name == cap.name)
        return bad_field(item_field + ".name", "repeats capability '" + cap.name + "'");
    out.push_back(std::move(cap));
  }
  return out;
}

result<task_record> decode_task_value(const value& obj, const std::string& prefix,
                                      std::string_view header_key, const codec_limits& limits) {
  if (!obj.IsObject())
    return make_error(errc::invalid_field, prefix.empty() ? "task must be a JSON object"
                                                          : prefix + " must be a JSON object",
                      prefix);
  task_record t;
  auto type = get_string(obj, "type", prefix, limits.max_name_bytes, true);
  if (!type)
    return std::move(type).err();
  if (type->empty())
    return bad_field(prefix + "type", "must not be empty");
  t.type = std::move(*type);
  auto description = get_string(obj, "description", prefix, 64 * 1024, false);
  if (!description)
    return std::move(description).err();
  t.description = std::move(*description);
  if (const value* p = member(obj, "payload")) {
    if (!p->IsObject())
      return bad_field(prefix + "payload", "must be a JSON object");
    if (auto err = check_depth(*p, prefix + "payload", limits.max_json_depth))
      return std::move(*err);
    t.payload_json = to_json_text(*p);
  }
  if (const value* p = member(obj, "priority")) {
    if (p->IsString()) {
      if (!from_string(lower(std::string{p->GetString(), p->GetStringLength()}), t.priority))
        return bad_field(prefix + "priority", "must be one of low, medium, high, critical (or 0-3)");
    } else if (p->IsUint() && p->GetUint() <= 3) {
      t.priority = static_cast<priority>(p->GetUint());
    } else {
      return bad_field(prefix + "priority", "must be one of low, medium, high, critical (or 0-3)");
    }
  }
  if (const value* p = member(obj, "required_capabilities")) {
    auto field = prefix + "required_capabilities";
    if (!p->IsArray())
      return bad_field(field, "must be an array of {name, min_proficiency}");
    if (p->Size() > limits.max_capabilities)
      return bad_field(field, "has more than " + std::to_string(limits.max_capabilities)
                                + " entries");
    for (rapidjson::SizeType i = 0; i < p->Size(); ++i) {
      auto item_field = field + "[" + std::to_string(i) + "]";
      const auto& item = (*p)[i];
      capability_requirement req;
      if (item.IsString()) {
        if (item.GetStringLength() > limits.max_name_bytes)
          return bad_field(item_field, "must be at most "
                                         + std::to_string(limits.max_name_bytes) + " bytes");
        req.name.assign(item.GetString(), item.GetStringLength());
      } else if (item.IsObject()) {
        auto name = get_string(item, "name", item_field + ".", limits.max_name_bytes, true);
        if (!name)
          return std::move(name).err();
        req.name = std::move(*name);
        if (const value* m = member(item, "min_proficiency")) {
          auto x = get_unit_interval(*m, item_field + ".min_proficiency");
          if (!x)
            return std::move(x).err();
          req.min_proficiency = *x;
        }
      } else {
        return bad_field(item_field, "must be an object {name, min_proficiency}");
      }
      if (req.name.empty())
        return bad_field(item_field + ".name", "must not be empty");
      if (has_control_char(req.name))
        return bad_field(item_field + ".name", "must not contain control characters");
      t.required_capabilities.push_back(std::move(req));
    }
  }
  if (const value* p = member(obj, "depends_on")) {
    auto field = prefix + "depends_on";
    if (!p->IsArray())
      return bad_field(field, "must be an array of task ids");
    if (p->Size() > limits.max_dependencies)
      return bad_field(field, "has more than " + std::to_string(limits.max_dependencies)
                                + " entries");
    for (rapidjson::SizeType i = 0; i < p->Size(); ++i) {
      const auto& item = (*p)[i];
      if (!item.IsString() || !runtime::looks_like_id({item.GetString(), item.GetStringLength()}))
        return bad_field(field + "[" + std::to_string(i) + "]", "must be a task id");
      t.depends_on.emplace_back(item.GetString(), item.GetStringLength());
    }
  }
  if (const value* p = member(obj, "timeout_ms")) {
    auto x = get_uint(*p, prefix + "timeout_ms", 1, 86'400'000);
    if (!x)
      return std::move(x).err();
    t.timeout_ms = *x;
  }
  if (const value* p = member(obj, "max_retries")) {
    auto x = get_uint(*p, prefix + "max_retries", 0, limits.max_retries);
    if (!x)
      return std::move(x).err();
    t.max_retries = *x;
  }
  auto key = get_string(obj, "idempotency_key", prefix, limits.max_name_bytes, false);
  if (!key)
    return std::move(key).err();
  t.idempotency_key = std::move(*key);
  if (!header_key.empty()) {
    if (header_key.size() > limits.max_name_bytes)
      return bad_field("Idempotency-Key", "must be at most "
                                            + std::to_string(limits.max_name_bytes) + " bytes");
    if (!t.idempotency_key.empty() && t.idempotency_key != header_key)
      return bad_field(prefix + "idempotency_key", "differs from the Idempotency-Key header");
    t.idempotency_key = std::string{header_key};
  }
  return t;
}

} // namespace

result<task_record> decode_task(std::string_view body, std::string_view header_key,
                                const codec_limits& limits) {
  rapidjson::Document doc;
  if (auto res = parse(body, doc); !res)
    return std::move(res).err();
  if (!doc.IsObject())
    return make_error(errc::malformed_json, "expected a JSON object");
  return decode_task_value(doc, "", header_key, limits);
}

result<std::vector<task_record>> decode_task_batch(std::string_view body, size_t max_batch,
                                                   const codec_limits& limits) {
  rapidjson::Document doc;
  if (auto res = parse(body, doc); !res)
    return std::move(res).err();
  const value* list = &doc;
  if (doc.IsObject()) {
    list = member(doc, "tasks");
    if (list == nullptr)
      return bad_field("tasks", "is required");
  }
  if (!list->IsArray())
    return bad_field("tasks", "must be an array of tasks");
  if (list->Empty())
    return bad_field("tasks", "must not be empty");
  if (list->Size() > max_batch)
    return bad_field("tasks", "has more than " + std::to_string(max_batch)
                                + " entries (HIVE_TASKS__MAX_BATCH)");
  std::vector<task_record> out;
  out.reserve(list->Size());
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    auto t = decode_task_value((*list)[i], "tasks[" + std::to_string(i) + "].", {}, limits);
    if (!t)
      return std::move(t).err();
    out.push_back(std::move(*t));
  }
  return out;
}

result<agent_record> decode_agent(std::string_view body, const codec_limits& limits) {
  rapidjson::Document doc;
  if (auto res = parse(body, doc); !res)
    return std::move(res).err();
  if (!doc.IsObject())
    return make_error(errc::malformed_json, "expected a JSON object");
  agent_record a;
  auto name = get_string(doc, "name", "", limits.max_name_bytes, true);
  if (!name)
    return std::move(name).err();
  if (name->empty())
    return bad_field("name", "must not be empty");
  a.name = std::move(*name);
  const char* type_key = member(doc, "type") != nullptr ? "type" : "agent_type";
  if (const value* p = member(doc, type_key)) {
    if (!p->IsString() || !from_string(lower({p->GetString(), p->GetStringLength()}), a.type))
      return bad_field(type_key, "must be one of worker, specialist, coordinator, learner, script");
  }
  if (const value* p = member(doc, "capabilities")) {
    auto caps = decode_capabilities(*p, "capabilities", limits);
    if (!caps)
      return std::move(caps).err();
    a.capabilities = std::move(*caps);
  }
  if (const value* p = member(doc, "max_concurrency")) {
    auto x = get_uint(*p, "max_concurrency", 1, limits.max_concurrency);
    if (!x)
      return std::move(x).err();
    a.max_concurrency = *x;
  }
  if (const value* p = member(doc, "metadata")) {
    if (!p->IsObject())
      return bad_field("metadata", "must be a JSON object");
    if (auto err = check_depth(*p, "metadata", limits.max_json_depth))
      return std::move(*err);
    a.metadata_json = to_json_text(*p);
  }
  if (const value* p = member(doc, "state")) {
    if (!p->IsString() || !from_string({p->GetString(), p->GetStringLength()}, a.state)
        || (a.state != agent_state::idle && a.state != agent_state::paused))
      return bad_field("state", "must be idle or paused");
  }
  // Cluster mode: where the agent should live ("least_loaded" or a node id); the scheduler
  // checks it against the membership and sets node_id to the node chosen.
  auto placement = get_string(doc, "placement", "", limits.max_name_bytes, false);
  if (!placement)
    return std::move(placement).err();
  a.node_id = std::move(*placement);
  return a;
}

result<agent_patch> decode_agent_patch(std::string_view body, const codec_limits& limits) {
  rapidjson::Document doc;
  if (auto res = parse(body, doc); !res)
    return std::move(res).err();
  if (!doc.IsObject())
    return make_error(errc::malformed_json, "expected a JSON object");
  agent_patch patch;
  if (member(doc, "name") != nullptr) {
    auto name = get_string(doc, "name", "", limits.max_name_bytes, true);
    if (!name)
      return std::move(name).err();
    if (name->empty())
      return bad_field("name", "must not be empty");
    patch.name = std::move(*name);
  }
  if (const value* p = member(doc, "state")) {
    agent_state st = agent_state::idle;
    if (!p->IsString() || !from_string({p->GetString(), p->GetStringLength()}, st)
        || (st != agent_state::idle && st != agent_state::paused))
      return bad_field("state", "must be idle (resume) or paused");
    patch.state = st;
  }
  if (const value* p = member(doc, "capabilities")) {
    auto caps = decode_capabilities(*p, "capabilities", limits);
    if (!caps)
      return std::move(caps).err();
    patch.capabilities = std::move(*caps);
  }
  if (const value* p = member(doc, "max_concurrency")) {
    auto x = get_uint(*p, "max_concurrency", 1, limits.max_concurrency);
    if (!x)
      return std::move(x).err();
    patch.max_concurrency = *x;
  }
  if (const value* p = member(doc, "metadata")) {
    if (!p->IsObject())
      return bad_field("metadata", "must be a JSON object");
    if (auto err = check_depth(*p, "metadata", limits.max_json_depth))
      return std::move(*err);
    patch.metadata_json = to_json_text(*p);
  }
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string_view key{it->name.GetString(), it->name.GetStringLength()};
    if (key == "type" || key == "agent_type" || key == "id")
      return bad_field(std::string{key}, "cannot be changed");
  }
  return patch;
}

} // namespace hive::net

namespace hive::net {

result<uint64_t> decode_duration(std::string_view text, std::string_view field) {
  auto bad = [&] {
    return make_error(errc::invalid_field,
                      std::string{field} + " must be a duration such as 90s, 15m, 1h or 7d, got '"
                        + std::string{text} + "'",
                      std::string{field});
  };
  if (text.empty() || text.size() > 12)
    return bad();
  uint64_t unit = 1;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  uint64_t n = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || res.ec != std::errc{} || res.ptr != text.data() + text.size() || n == 0)
    return bad();
  return n * unit;
}

result<std::pair<std::string, std::string>> decode_script(std::string_view body,
                                                          size_t max_source_bytes) {
  rapidjson::Document doc;
  if (auto res = parse(body, doc); !res)
    return std::move(res).err();
  if (!doc.IsObject())
    return make_error(errc::malformed_json, "expected a JSON object");
  auto name = get_string(doc, "name", "", 128, true);
  if (!name)
    return std::move(name).err();
  auto source = get_string(doc, "source", "", max_source_bytes, true);
  if (!source)
    return std::move(source).err();
  return std::make_pair(std::move(*name), std::move(*source));
}

} // namespace hive::net
