// api/client/auth.h — the X-Registry-Auth header docker clients send and the
// base64 used by ~/.docker/config.json's "auth" field.
// Depends on: base (OpenSSL's base64 through libcrypto).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::api::client {

// Standard (or URL-safe) base64 with '=' padding.
std::string base64_encode(std::string_view in, bool url_safe = false);
// Standard or URL-safe alphabet, padding optional; InvalidArgument otherwise.
Result<std::string> base64_decode(std::string_view in);

struct RegistryAuth {
  std::string username;
  std::string password;
  std::string server_address;
  std::string identity_token;
};
// base64url(JSON) as docker's CLI encodes it; "e30=" ({}) when anonymous.
std::string encode_registry_auth(const RegistryAuth& a);

}  // namespace berth::api::client
