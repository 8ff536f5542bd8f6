#include "base/ascii.h"

namespace berth {

namespace {

char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = fold(c);
  return out;
}

}  // namespace berth
