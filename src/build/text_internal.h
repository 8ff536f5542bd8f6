// build/text_internal.h — text helpers private to the build module: UTF-8
// stepping (docker's lexers work on runes, so `?` and cut points must not
// split a character); Go's %q is base's go_quote.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/strings.h"

namespace berth::build {

// Go's unicode.IsSpace restricted to ASCII (the only spaces a Dockerfile's
// syntax cares about).
inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Length of the UTF-8 sequence starting at s[i]; 1 for a byte that does not
// start a valid sequence, so every byte is consumed exactly once.
inline size_t utf8_len(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 1;
  if (i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 1;
  }
  return n;
}

// True when s[i] does not continue a character, i.e. a cut before it keeps
// every character whole.
inline bool utf8_boundary(std::string_view s, size_t i) {
  return i == 0 || i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80;
}

}  // namespace berth::build
