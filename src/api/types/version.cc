#include "api/types/version.h"

#include <fmt/format.h>

#include "base/strings.h"

namespace berth::api {

std::optional<ApiVersion> ApiVersion::parse(std::string_view s) {
  auto dot = s.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto ma = parse_uint(s.substr(0, dot));
  auto mi = parse_uint(s.substr(dot + 1));
  if (!ma || !mi || *ma > 1000 || *mi > 1000) return std::nullopt;
  return ApiVersion{static_cast<int>(*ma), static_cast<int>(*mi)};
}

std::string ApiVersion::str() const { return fmt::format("{}.{}", major, minor); }

}  // namespace berth::api
