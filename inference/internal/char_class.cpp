// Byte-level character classes: ASCII rules plus the UTF-8 punctuation blocks that split words.
#include "inference/internal/char_class.hpp"

namespace hive::inference::internal {

char_info classify_char(std::string_view text, size_t pos) noexcept {
  const auto c = static_cast<unsigned char>(text[pos]);
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      return {char_kind::letter, 1};
    if (c >= '0' && c <= '9')
      return {char_kind::digit, 1};
    if (c == '\'')
      return {char_kind::apostrophe, 1};
    return {char_kind::separator, 1};
  }
  const size_t left = text.size() - pos;
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[pos + k]); };
  // U+0080..U+00BF: Latin-1 controls, no-break space, guillemets, currency and other symbols.
  // Ordinal indicators and the micro sign are letters.
  if (c == 0xC2 && left >= 2 && byte(1) >= 0x80 && byte(1) <= 0xBF) {
    const unsigned char b = byte(1);
    const bool letter_like = b == 0xAA || b == 0xB5 || b == 0xBA;
    return {letter_like ? char_kind::letter : char_kind::separator, 2};
  }
  // U+2000..U+203F: typographic spaces, dashes, curly quotes, bullets, ellipsis. U+2019 is the
  // typographic apostrophe ("don’t").
  if (c == 0xE2 && left >= 3 && byte(1) == 0x80 && byte(2) >= 0x80 && byte(2) <= 0xBF)
    return {byte(2) == 0x99 ? char_kind::apostrophe : char_kind::separator, 3};
  // U+3000..U+3002: ideographic space, comma and full stop.
  if (c == 0xE3 && left >= 3 && byte(1) == 0x80 && byte(2) >= 0x80 && byte(2) <= 0x82)
    return {char_kind::separator, 3};
  return {char_kind::letter, 1};
}

} // namespace hive::inference::internal
