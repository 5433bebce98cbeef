// Text files of /proc and /sys: whole-file reads and numbers.
#include "runtime/internal/proc_text.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hive::runtime::internal {

std::optional<std::string> read_text_file(const char* path) {
  std::ifstream in{path};
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> parse_number(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  while (!text.empty() && blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && blank(text.back()))
    text.remove_suffix(1);
  // strtod wants a terminated string; the fields are short.
  std::string copy{text};
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size())
    return std::nullopt;
  return value;
}

} // namespace hive::runtime::internal
