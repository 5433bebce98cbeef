// The real clock.
#include "runtime/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace hive::runtime {

timestamp_ms system_clock::now() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string format_utc(timestamp_ms at) {
  std::time_t secs = at / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(at % 1000));
  return buf;
}

const system_clock& system_clock::instance() noexcept {
  static const system_clock clk;
  return clk;
}

} // namespace hive::runtime
