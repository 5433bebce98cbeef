// RapidJSON encoding of the store's JSON columns; reading checks every type before using it.
#include "persistence/internal/json_columns.hpp"

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

namespace hive::persistence::internal {
namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>,
                                      rapidjson::UTF8<>, rapidjson::CrtAllocator,
                                      rapidjson::kWriteNanAndInfFlag>;

// Full precision so that a double read back is the double written.
constexpr unsigned parse_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag
                                 | rapidjson::kParseNanAndInfFlag;

void put_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

bool parse_array(std::string_view json, rapidjson::Document& doc) {
  doc.Parse<parse_flags>(json.data(), json.size());
  return !doc.HasParseError() && doc.IsArray();
}

bool read_string(const rapidjson::Value& obj, const char* key, std::string& out) {
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd())
    return true;
  if (!i->value.IsString())
    return false;
  out.assign(i->value.GetString(), i->value.GetStringLength());
  return true;
}

bool read_number(const rapidjson::Value& obj, const char* key, double& out) {
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd())
    return true;
  if (!i->value.IsNumber())
    return false;
  out = i->value.GetDouble();
  return true;
}

} // namespace

void write_json(const std::vector<capability>& caps, rapidjson::StringBuffer& out) {
  out.Clear();
  json_writer w{out};
  w.StartArray();
  for (const auto& cap : caps) {
    w.StartObject();
    w.Key("name");
    put_string(w, cap.name);
    w.Key("proficiency");
    w.Double(cap.proficiency);
    w.Key("learning_rate");
    w.Double(cap.learning_rate);
    w.EndObject();
  }
  w.EndArray();
}

void write_json(const std::vector<capability_requirement>& reqs, rapidjson::StringBuffer& out) {
  out.Clear();
  json_writer w{out};
  w.StartArray();
  for (const auto& req : reqs) {
    w.StartObject();
    w.Key("name");
    put_string(w, req.name);
    w.Key("min_proficiency");
    w.Double(req.min_proficiency);
    w.EndObject();
  }
  w.EndArray();
}

void write_json(const std::vector<std::string>& ids, rapidjson::StringBuffer& out) {
  out.Clear();
  json_writer w{out};
  w.StartArray();
  for (const auto& id : ids)
    put_string(w, id);
  w.EndArray();
}

bool read_json(std::string_view json, std::vector<capability>& out) {
  rapidjson::Document doc;
  if (!parse_array(json, doc))
    return false;
  out.clear();
  out.reserve(doc.Size());
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject())
      return false;
    auto& cap = out.emplace_back();
    if (!read_string(item, "name", cap.name) || !read_number(item, "proficiency", cap.proficiency)
        || !read_number(item, "learning_rate", cap.learning_rate))
      return false;
  }
  return true;
}

bool read_json(std::string_view json, std::vector<capability_requirement>& out) {
  rapidjson::Document doc;
  if (!parse_array(json, doc))
    return false;
  out.clear();
  out.reserve(doc.Size());
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject())
      return false;
    auto& req = out.emplace_back();
    if (!read_string(item, "name", req.name)
        || !read_number(item, "min_proficiency", req.min_proficiency))
      return false;
  }
  return true;
}

bool read_json(std::string_view json, std::vector<std::string>& out) {
  rapidjson::Document doc;
  if (!parse_array(json, doc))
    return false;
  out.clear();
  out.reserve(doc.Size());
  for (const auto& item : doc.GetArray()) {
    if (!item.IsString())
      return false;
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return true;
}

} // namespace hive::persistence::internal
