#include "monitor/detach_keys.h"

#include <cctype>

#include "base/strings.h"

namespace berth::monitor {

Result<std::string> parse_detach_keys(std::string_view keys) {
  std::string seq;
  if (keys.empty()) return seq;
  for (const auto& key : split(keys, ',')) {
    if (key.size() == 1) {
      seq.push_back(key[0]);
      continue;
    }
    std::string lower;
    for (char c : key)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    auto bad = [&] {
      return make_error(Errc::InvalidArgument, "invalid detach keys ({}): Unknown character: '{}'",
                        keys, key);
    };
    if (!starts_with(lower, "ctrl-") || lower.size() != 6) return bad();
    char c = lower[5];
    if (c >= 'a' && c <= 'z') {
      seq.push_back(static_cast<char>(c - 'a' + 1));
    } else {
      switch (c) {
        case '@':
          seq.push_back(0);
          break;
        case '[':
          seq.push_back(27);
          break;
        case '\\':
          seq.push_back(28);
          break;
        case ']':
          seq.push_back(29);
          break;
        case '^':
          seq.push_back(30);
          break;
        case '_':
          seq.push_back(31);
          break;
        default:
          return bad();
      }
    }
  }
  return seq;
}

bool DetachMatcher::feed(std::string_view in, std::string& out) {
  if (seq_.empty()) {
    out.append(in);
    return false;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == seq_[matched_]) {
      if (++matched_ == seq_.size()) {
        matched_ = 0;
        return true;
      }
      continue;
    }
    // Broken: release what was held, then retry this byte as a new start.
    out.append(seq_, 0, matched_);
    matched_ = 0;
    if (c == seq_[0]) {
      if (seq_.size() == 1) return true;
      matched_ = 1;
    } else {
      out.push_back(c);
    }
  }
  return false;
}

}  // namespace berth::monitor
