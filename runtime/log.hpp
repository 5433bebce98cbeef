// Process-wide logging to stderr: plain text or one JSON object per line.
#pragma once

#include <initializer_list>
#include <string_view>

namespace hive::runtime {

enum class log_level { debug, info, warn, error };

struct log_config;

/// Sets level and format. Call once at start, before other threads log.
void configure_logging(const log_config& cfg);

/// One key and value of a structured line: text or a number. JSON lines carry it as a member;
/// text lines append ` key=value` (quoted when the value holds spaces).
struct log_field {
  log_field(std::string_view k, std::string_view v) : key(k), text(v) {}
  log_field(std::string_view k, const char* v) : key(k), text(v) {}
  log_field(std::string_view k, double v) : key(k), number(v), is_number(true) {}

  std::string_view key;
  std::string_view text;
  double number = 0;
  bool is_number = false;
};

/// Thread-safe. `component` names the module ("store", "http", ...).
void log(log_level level, std::string_view component, std::string_view message,
         std::initializer_list<log_field> fields = {});

inline void log_debug(std::string_view c, std::string_view m) { log(log_level::debug, c, m); }
inline void log_info(std::string_view c, std::string_view m) { log(log_level::info, c, m); }
inline void log_warn(std::string_view c, std::string_view m) { log(log_level::warn, c, m); }
inline void log_error(std::string_view c, std::string_view m) { log(log_level::error, c, m); }

/// False when `level` is below the configured one (skip building the message).
bool log_enabled(log_level level) noexcept;

} // namespace hive::runtime
