// JSON <-> Lua through RapidJSON.
#include "actors/scripting/lua_json.hpp"

#include <cmath>

#include <lua.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hive::actors::scripting {
namespace {

constexpr int max_depth = 64;

void push_value(lua_State* L, const rapidjson::Value& v) {
  luaL_checkstack(L, 4, "JSON too deep");
  switch (v.GetType()) {
    case rapidjson::kNullType: lua_pushnil(L); break;
    case rapidjson::kFalseType: lua_pushboolean(L, 0); break;
    case rapidjson::kTrueType: lua_pushboolean(L, 1); break;
    case rapidjson::kStringType: lua_pushlstring(L, v.GetString(), v.GetStringLength()); break;
    case rapidjson::kNumberType:
      if (v.IsInt64())
        lua_pushinteger(L, static_cast<lua_Integer>(v.GetInt64()));
      else
        lua_pushnumber(L, v.GetDouble());
      break;
    case rapidjson::kArrayType: {
      lua_createtable(L, static_cast<int>(v.Size()), 0);
      lua_Integer i = 1;
      for (const auto& item : v.GetArray()) {
        push_value(L, item);
        lua_rawseti(L, -2, i++);
      }
      break;
    }
    case rapidjson::kObjectType:
      lua_createtable(L, 0, static_cast<int>(v.MemberCount()));
      for (const auto& m : v.GetObject()) {
        lua_pushlstring(L, m.name.GetString(), m.name.GetStringLength());
        push_value(L, m.value);
        lua_rawset(L, -3);
      }
      break;
  }
}

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// The length n when the table's keys are exactly 1..n (n >= 1), else 0.
lua_Integer array_length(lua_State* L, int t) {
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, t));
  if (n == 0)
    return 0;
  lua_Integer keys = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    auto k = lua_tointeger(L, -1);
    if (k < 1 || k > n) {
      lua_pop(L, 1);
      return 0;
    }
    ++keys;
  }
  return keys == n ? n : 0;
}

result<unit_t> write_value(lua_State* L, int index, writer& w, const std::string& path,
                           int depth) {
  index = lua_absindex(L, index);
  switch (lua_type(L, index)) {
    case LUA_TNIL: w.Null(); return unit;
    case LUA_TBOOLEAN: w.Bool(lua_toboolean(L, index) != 0); return unit;
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) {
        w.Int64(static_cast<int64_t>(lua_tointeger(L, index)));
      } else {
        double d = lua_tonumber(L, index);
        if (!std::isfinite(d))
          return make_error(errc::invalid_field, path + " is not a finite number", path);
        w.Double(d);
      }
      return unit;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      w.String(s, static_cast<rapidjson::SizeType>(len));
      return unit;
    }
    case LUA_TTABLE: {
      if (depth >= max_depth)
        return make_error(errc::invalid_field,
                          path + " nests deeper than 64 levels (or refers to itself)", path);
      luaL_checkstack(L, 4, "table too deep");
      if (auto n = array_length(L, index); n > 0) {
        w.StartArray();
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, index, i);
          auto ok = write_value(L, -1, w, path + "[" + std::to_string(i) + "]", depth + 1);
          lua_pop(L, 1);
          if (!ok)
            return ok;
        }
        w.EndArray();
        return unit;
      }
      w.StartObject();
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
          lua_pop(L, 2);
          return make_error(errc::invalid_field,
                            path + " mixes non-string keys into an object", path);
        }
        size_t len = 0;
        const char* key = lua_tolstring(L, -2, &len);
        w.Key(key, static_cast<rapidjson::SizeType>(len));
        auto ok = write_value(L, -1, w, path + "." + std::string{key, len}, depth + 1);
        lua_pop(L, 1);
        if (!ok) {
          lua_pop(L, 1);
          return ok;
        }
      }
      w.EndObject();
      return unit;
    }
    default:
      return make_error(errc::invalid_field,
                        path + " is a " + luaL_typename(L, index) + ", which JSON cannot hold",
                        path);
  }
}

} // namespace

result<unit_t> push_json(lua_State* L, std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError())
    return make_error(errc::invalid_field, "not valid JSON");
  push_value(L, doc);
  return unit;
}

result<std::string> to_json(lua_State* L, int index) {
  rapidjson::StringBuffer buf;
  writer w{buf};
  if (auto ok = write_value(L, index, w, "result", 0); !ok)
    return ok.err();
  return std::string{buf.GetString(), buf.GetSize()};
}

} // namespace hive::actors::scripting
