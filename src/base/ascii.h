// base/ascii.h — ASCII case folding for protocol tokens (HTTP header names
// and values like "close" or "websocket", auth schemes, file extensions,
// JSON keys matched the way Go's encoding/json does). Not for text in
// general: no locale, bytes >= 0x80 compare as they are.
#pragma once

#include <string>
#include <string_view>

namespace berth {

bool iequals(std::string_view a, std::string_view b);
std::string ascii_lower(std::string_view s);

}  // namespace berth
