// api/types/auth.h — docker's AuthConfig: the X-Registry-Auth header (pull,
// push, search) and the POST /auth body.
// Header form: base64url(JSON) as docker clients send it; standard base64,
// with or without '=' padding, is tolerated (docker-py and old clients).
// An empty header, "{}" or "null" JSON is anonymous.
// Depends on: base (OpenSSL's base64 decoder through base's libcrypto).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::api {

struct AuthConfig {
  std::string username;
  std::string password;
  std::string auth;  // base64("user:pass"), used when username/password are empty
  std::string email;
  std::string server_address;
  std::string identity_token;
  std::string registry_token;
};

// Decodes X-Registry-Auth. InvalidArgument "invalid X-Registry-Auth header: ..."
// for bad base64 or JSON (naming the bad field).
Result<AuthConfig> decode_registry_auth(std::string_view header);
// POST /auth body (plain JSON). InvalidArgument naming the bad field.
Result<AuthConfig> decode_auth_config_json(std::string_view body, std::string_view what);

// base64 (url or standard alphabet, padding optional) -> bytes.
Result<std::string> base64_decode_lenient(std::string_view in);

}  // namespace berth::api
