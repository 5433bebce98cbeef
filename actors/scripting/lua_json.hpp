// JSON text <-> Lua values, for task payloads, results and script state.
#pragma once

#include <string>
#include <string_view>

#include "runtime/error.hpp"

struct lua_State;

namespace hive::actors::scripting {

/// Pushes the JSON text as a Lua value: objects and arrays become tables (arrays indexed from
/// 1), null becomes nil. Invalid JSON is an invalid_field error and pushes nothing.
result<unit_t> push_json(lua_State* L, std::string_view json);

/// The Lua value at `index` as JSON text: a table whose keys are exactly 1..n is an array
/// (an empty table is an empty object), other tables need string keys; nil is null. Functions,
/// userdata, threads, cycles and nesting deeper than 64 are errors naming the path.
result<std::string> to_json(lua_State* L, int index);

} // namespace hive::actors::scripting
