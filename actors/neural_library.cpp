// Names and JSON forms of stored models and datasets.
#include "actors/neural_library.hpp"

#include <cctype>
#include <cmath>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "actors/internal/dataset_json.hpp"
#include "inference/batch_eval.hpp"

namespace hive::actors {
namespace {

constexpr size_t max_name_length = 128;

} // namespace

bool gpu_enabled(std::string_view mode) {
  return (mode == "cuda" || mode == "auto") && inference::probe_gpu().usable;
}

result<unit_t> check_object_name(std::string_view name, std::string_view field,
                                 bool allow_reserved) {
  std::string f{field};
  if (name.empty() || name.size() > max_name_length)
    return make_error(errc::invalid_field, f + " must be 1 to 128 characters", f);
  for (unsigned char ch : name)
    if (!std::isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
      return make_error(errc::invalid_field,
                        f + " may hold only letters, digits, '.', '_' and '-'", f);
  if (!allow_reserved && name.substr(0, reserved_prefix.size()) == reserved_prefix)
    return make_error(errc::invalid_field,
                      f + " must not start with '" + std::string{reserved_prefix}
                        + "' (names Hive keeps for itself)",
                      f);
  return unit;
}

result<size_t> internal::read_rows(const rapidjson::Value& object, const char* key,
                                   const std::string& field, std::vector<float>& out,
                                   size_t& budget) {
  if (!object.IsObject())
    return make_error(errc::invalid_field, field + " must be an object", field);
  auto it = object.FindMember(key);
  auto end = object.MemberEnd();
  auto where = field + "." + key;
  if (it == end || !it->value.IsArray() || it->value.Empty())
    return make_error(errc::invalid_field, where + " must be a non-empty array of rows", where);
  size_t width = 0;
  const auto& rows = it->value;
  for (rapidjson::SizeType r = 0; r < rows.Size(); ++r) {
    auto row_field = where + "[" + std::to_string(r) + "]";
    const auto& row = rows[r];
    if (!row.IsArray() || row.Empty())
      return make_error(errc::invalid_field, row_field + " must be a non-empty array of numbers",
                        row_field);
    if (r == 0)
      width = row.Size();
    else if (row.Size() != width)
      return make_error(errc::invalid_field,
                        row_field + " has " + std::to_string(row.Size()) + " values; row 0 has "
                          + std::to_string(width),
                        row_field);
    if (row.Size() > budget)
      return make_error(errc::invalid_field, field + " holds too many numbers", field);
    budget -= row.Size();
    for (const auto& v : row.GetArray()) {
      auto x = v.IsNumber() ? static_cast<float>(v.GetDouble()) : NAN;
      if (!std::isfinite(x))
        return make_error(errc::invalid_field,
                          row_field + " must hold only numbers of single-precision range",
                          row_field);
      out.push_back(x);
    }
  }
  return width;
}

result<inference::dataset> internal::dataset_from(const rapidjson::Value& value,
                                                  std::string_view field, size_t max_values) {
  std::string f{field};
  if (!value.IsObject())
    return make_error(errc::invalid_field,
                      f + " must be an object with \"inputs\" and \"outputs\" arrays", f);
  inference::dataset data;
  size_t budget = max_values;
  auto inputs = read_rows(value, "inputs", f, data.x, budget);
  if (!inputs)
    return std::move(inputs).err();
  auto outputs = read_rows(value, "outputs", f, data.y, budget);
  if (!outputs)
    return std::move(outputs).err();
  data.inputs = *inputs;
  data.outputs = *outputs;
  if (data.x.size() / data.inputs != data.y.size() / data.outputs)
    return make_error(errc::invalid_field,
                      f + ".inputs has " + std::to_string(data.x.size() / data.inputs)
                        + " rows but " + f + ".outputs has "
                        + std::to_string(data.y.size() / data.outputs),
                      f + ".outputs");
  return data;
}

result<inference::dataset> decode_dataset(std::string_view json, std::string_view field,
                                          size_t max_values) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError())
    return make_error(errc::malformed_json, std::string{field} + " is not valid JSON",
                      std::string{field});
  return internal::dataset_from(doc, field, max_values);
}

std::string encode_dataset(const inference::dataset& data) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto rows = [&](const char* key, const std::vector<float>& values, size_t width) {
    w.Key(key);
    w.StartArray();
    for (size_t i = 0; i < values.size(); i += width) {
      w.StartArray();
      for (size_t j = 0; j < width; ++j)
        w.Double(static_cast<double>(values[i + j]));
      w.EndArray();
    }
    w.EndArray();
  };
  w.StartObject();
  rows("inputs", data.x, data.inputs);
  rows("outputs", data.y, data.outputs);
  w.EndObject();
  return std::string{buf.GetString(), buf.GetSize()};
}

std::string dataset_meta(const inference::dataset& data) {
  return "{\"rows\":" + std::to_string(data.rows()) + ",\"inputs\":"
         + std::to_string(data.inputs) + ",\"outputs\":" + std::to_string(data.outputs) + "}";
}

} // namespace hive::actors
