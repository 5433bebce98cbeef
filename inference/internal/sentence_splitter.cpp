// Sentence splitting on . ! ? and blank lines, aware of abbreviations, initials and decimals.
#include "inference/internal/sentence_splitter.hpp"

#include <algorithm>
#include <iterator>

#include "inference/internal/char_class.hpp"
#include "inference/text_analysis.hpp"

namespace hive::inference {
namespace internal {
namespace {

// Abbreviations that never end a sentence (lower case, without their final dot).
constexpr std::string_view always_abbreviations[] = {
    "mr",  "mrs", "ms",  "dr",  "prof", "st",   "sr",  "jr",  "e.g", "i.e", "vs",
    "cf",  "approx", "fig", "gen", "col", "capt", "lt", "sgt", "rev", "hon", "dept",
    "vol", "ca",  "mt",  "pp",  "viz"};

// Abbreviations that end a sentence only when the next word starts with a capital letter
// ("apples, pears, etc. Then" ends one; "at 5 p.m. sharp" does not).
constexpr std::string_view trailing_abbreviations[] = {
    "etc", "inc", "ltd", "co",  "corp", "a.m", "p.m", "u.s", "u.k", "ph.d", "al",
    "no",  "nos", "jan", "feb", "mar",  "apr", "jun", "jul", "aug", "sep",  "sept",
    "oct", "nov", "dec"};

bool is_terminal(char c) noexcept { return c == '.' || c == '!' || c == '?'; }

// Length of a closing quote or bracket at `pos`, or 0.
size_t closer_length(std::string_view text, size_t pos) noexcept {
  const char c = text[pos];
  if (c == '"' || c == '\'' || c == ')' || c == ']')
    return 1;
  // U+2019 and U+201D, the typographic closing quotes.
  if (static_cast<unsigned char>(c) == 0xE2 && pos + 2 < text.size() &&
      static_cast<unsigned char>(text[pos + 1]) == 0x80 &&
      (static_cast<unsigned char>(text[pos + 2]) == 0x99 ||
       static_cast<unsigned char>(text[pos + 2]) == 0x9D))
    return 3;
  return 0;
}

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

// Whether the lone dot at `dot` closes an abbreviation or an initial rather than a sentence.
bool dot_keeps_sentence(std::string_view text, size_t dot, size_t after) {
  size_t begin = dot;
  while (begin > 0 && dot - begin < 8) {
    const char c = text[begin - 1];
    const bool part = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.';
    if (!part)
      break;
    --begin;
  }
  if (begin == dot || (begin > 0 && classify_char(text, begin - 1).kind != char_kind::separator))
    return false;
  std::string word(text.substr(begin, dot - begin));
  if (word.size() == 1 && word[0] >= 'A' && word[0] <= 'Z' && word[0] != 'I')
    return true; // an initial, as in "J. Smith"
  for (char& c : word)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  if (contains(always_abbreviations, word))
    return true;
  if (!contains(trailing_abbreviations, word))
    return false;
  size_t next = after;
  while (next < text.size() && is_space(text[next]))
    ++next;
  return next < text.size() && !(text[next] >= 'A' && text[next] <= 'Z');
}

// If the terminal run starting at `pos` ends a sentence, where that sentence ends; else npos.
// `resume` is set to the first position after the run either way.
size_t sentence_end_at(std::string_view text, size_t pos, size_t& resume) {
  size_t end = pos;
  while (end < text.size() && is_terminal(text[end]))
    ++end;
  const bool lone_dot = end - pos == 1 && text[pos] == '.';
  while (end < text.size()) {
    const size_t len = closer_length(text, end);
    if (len == 0)
      break;
    end += len;
  }
  resume = end;
  if (end < text.size() && !is_space(text[end]))
    return std::string_view::npos; // "3.5", "example.com", "e.g.x"
  if (lone_dot && dot_keeps_sentence(text, pos, end))
    return std::string_view::npos;
  return end;
}

bool has_word_char(std::string_view text, text_span span) {
  for (size_t pos = span.begin; pos < span.end;) {
    const char_info ch = classify_char(text, pos);
    if (is_word_kind(ch.kind))
      return true;
    pos += ch.length;
  }
  return false;
}

void add_span(std::string_view text, size_t begin, size_t end, std::vector<text_span>& spans) {
  while (begin < end && is_space(text[begin]))
    ++begin;
  while (end > begin && is_space(text[end - 1]))
    --end;
  const text_span span{begin, end};
  if (begin < end && has_word_char(text, span))
    spans.push_back(span);
}

} // namespace

std::vector<text_span> sentence_spans(std::string_view text) {
  std::vector<text_span> spans;
  size_t start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '\n') {
      size_t next = pos + 1;
      while (next < text.size() && (text[next] == ' ' || text[next] == '\t' || text[next] == '\r'))
        ++next;
      if (next < text.size() && text[next] == '\n') {
        add_span(text, start, pos, spans);
        start = pos = next + 1;
        continue;
      }
      ++pos;
    } else if (is_terminal(c)) {
      size_t resume = pos;
      const size_t end = sentence_end_at(text, pos, resume);
      if (end != std::string_view::npos) {
        add_span(text, start, end, spans);
        start = end;
      }
      pos = resume;
    } else {
      ++pos;
    }
  }
  add_span(text, start, text.size(), spans);
  return spans;
}

std::string sentence_text(std::string_view text, text_span span) {
  std::string out;
  out.reserve(span.end - span.begin);
  bool in_space = false;
  for (size_t pos = span.begin; pos < span.end; ++pos) {
    const char c = text[pos];
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty())
      out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<size_t> span_index_of(const std::vector<size_t>& positions,
                                  const std::vector<text_span>& spans) {
  std::vector<size_t> index;
  index.reserve(positions.size());
  size_t current = 0;
  for (const size_t pos : positions) {
    while (current + 1 < spans.size() && spans[current + 1].begin <= pos)
      ++current;
    index.push_back(current);
  }
  return index;
}

} // namespace internal

std::vector<std::string> split_sentences(std::string_view text) {
  const auto spans = internal::sentence_spans(text);
  std::vector<std::string> sentences;
  sentences.reserve(spans.size());
  for (const auto& span : spans)
    sentences.push_back(internal::sentence_text(text, span));
  return sentences;
}

} // namespace hive::inference
