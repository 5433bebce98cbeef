// JSON text of the list-valued columns (capabilities, requirements, dependencies), both ways.
#pragma once

#include <rapidjson/stringbuffer.h>

#include <string>
#include <string_view>
#include <vector>

#include "runtime/model.hpp"

namespace hive::persistence::internal {

/// Writers: clear `out` and leave the JSON array in it.
void write_json(const std::vector<capability>& caps, rapidjson::StringBuffer& out);
void write_json(const std::vector<capability_requirement>& reqs, rapidjson::StringBuffer& out);
void write_json(const std::vector<std::string>& ids, rapidjson::StringBuffer& out);

/// Readers: false when `json` is not an array of the expected shape (`out` is then unspecified).
/// Missing members of an element keep their defaults.
bool read_json(std::string_view json, std::vector<capability>& out);
bool read_json(std::string_view json, std::vector<capability_requirement>& out);
bool read_json(std::string_view json, std::vector<std::string>& out);

} // namespace hive::persistence::internal
