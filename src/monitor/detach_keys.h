// monitor/detach_keys.h — docker's --detach-keys: parsing and matching.
// Grammar (docker's): comma-separated keys, each a single character ("a") or
// "ctrl-<x>" with x one of a-z @ [ \ ] ^ _ (case-insensitive). "" = no
// detach sequence. The default is "ctrl-p,ctrl-q".
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::monitor {

inline constexpr std::string_view kDefaultDetachKeys = "ctrl-p,ctrl-q";

// The byte sequence; InvalidArgument "invalid detach keys (x): Unknown character: 'x'".
Result<std::string> parse_detach_keys(std::string_view keys);

// Scans client input for the sequence. Bytes that may begin the sequence are
// held back until it is complete (detach: they are dropped) or broken (they
// are passed through in order).
class DetachMatcher {
 public:
  DetachMatcher() = default;
  explicit DetachMatcher(std::string seq) : seq_(std::move(seq)) {}
  // Appends to `out` what goes to the container; true when the sequence was
  // completed (input after it is dropped).
  bool feed(std::string_view in, std::string& out);

 private:
  std::string seq_;
  size_t matched_ = 0;
};

}  // namespace berth::monitor
