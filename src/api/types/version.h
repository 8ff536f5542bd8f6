// api/types/version.h — Docker Engine API versions ("1.47") and the range
// berthd speaks.
// Depends on: std only.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace berth::api {

struct ApiVersion {
  int major = 1;
  int minor = 47;

  // "1.47" -> {1, 47}; nullopt for anything else ("1", "1.x", "v1.47", "").
  static std::optional<ApiVersion> parse(std::string_view s);
  std::string str() const;
  auto operator<=>(const ApiVersion&) const = default;
};

// Clients from docker 1.12-era (1.24) up to docker 27/28's negotiated 1.47.
inline constexpr ApiVersion kMinApiVersion{1, 24};
inline constexpr ApiVersion kMaxApiVersion{1, 47};
inline constexpr ApiVersion kDefaultApiVersion = kMaxApiVersion;

}  // namespace berth::api
