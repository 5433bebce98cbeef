// Logging implementation: one mutex-guarded write per line.
#include "runtime/log.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "runtime/clock.hpp"
#include "runtime/config.hpp"

namespace hive::runtime {
namespace {

std::atomic<int> min_level{static_cast<int>(log_level::info)};
std::atomic<bool> json_format{false};
std::mutex out_mtx;

std::string_view name(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

/// Whole numbers without a fraction, others with up to 3 decimals.
void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<long long>(v)) && v > -1e15 && v < 1e15)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.3f", v);
  out += buf;
}

std::string timestamp() {
  return format_utc(system_clock::instance().now());
}

} // namespace

void configure_logging(const log_config& cfg) {
  log_level level = log_level::info;
  if (cfg.level == "debug")
    level = log_level::debug;
  else if (cfg.level == "warn")
    level = log_level::warn;
  else if (cfg.level == "error")
    level = log_level::error;
  min_level = static_cast<int>(level);
  json_format = cfg.format == "json";
}

bool log_enabled(log_level level) noexcept {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void log(log_level level, std::string_view component, std::string_view message,
         std::initializer_list<log_field> fields) {
  if (!log_enabled(level))
    return;
  std::string line;
  line.reserve(64 + message.size() + fields.size() * 32);
  if (json_format) {
    line += "{\"ts\":\"" + timestamp() + "\",\"level\":\"";
    line += name(level);
    line += "\",\"component\":";
    append_json_string(line, component);
    line += ",\"msg\":";
    append_json_string(line, message);
    for (const auto& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      if (f.is_number)
        append_number(line, f.number);
      else
        append_json_string(line, f.text);
    }
    line += "}\n";
  } else {
    line += timestamp();
    line += ' ';
    line += name(level);
    line += " [";
    line += component;
    line += "] ";
    line += message;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      if (f.is_number)
        append_number(line, f.number);
      else if (f.text.empty() || f.text.find_first_of(" \"=") != std::string_view::npos)
        append_json_string(line, f.text); // quoted, so the line still splits on spaces
      else
        line += f.text;
    }
    line += '\n';
  }
  std::lock_guard<std::mutex> guard{out_mtx};
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace hive::runtime
