// Percent-decoding of request paths and query strings.
#include "net/internal/target.hpp"

namespace hive::net::internal {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void decode_into(std::string_view text, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
}

} // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  decode_into(text, plus_is_space, out);
  return out;
}

void split_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query) {
  query.clear();
  // A fragment is never sent by conforming clients; drop it if one arrives anyway.
  if (auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  auto question = target.find('?');
  decode_into(target.substr(0, question), false, path);
  if (question == std::string_view::npos)
    return;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (piece.empty())
      continue;
    auto eq = piece.find('=');
    auto& [key, value] = query.emplace_back();
    decode_into(piece.substr(0, eq), true, key);
    if (eq != std::string_view::npos)
      decode_into(piece.substr(eq + 1), true, value);
  }
}

} // namespace hive::net::internal
