#include "api/types/auth.h"

#include <openssl/evp.h>

#include "base/json.h"
#include "base/strings.h"

namespace berth::api {

Result<std::string> base64_decode_lenient(std::string_view in) {
  std::string s;
  s.reserve(in.size() + 3);
  for (char c : in) {
    if (c == '-')
      s += '+';
    else if (c == '_')
      s += '/';
    else if (c == '=' || c == '\n' || c == '\r')
      continue;
    else
      s += c;
  }
  size_t rem = s.size() % 4;
  if (rem == 1) return make_error(Errc::InvalidArgument, "invalid base64 length");
  size_t pad = rem ? 4 - rem : 0;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return make_error(Errc::InvalidArgument, "invalid base64 data");
  // EVP_DecodeBlock counts the zero bytes that stand for '=' padding.
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

namespace {

Result<AuthConfig> from_json(const Json& j, std::string_view what) {
  AuthConfig a;
  if (j.is_null()) return a;
  if (!j.is_object())
    return make_error(Errc::InvalidArgument, "{}: expected a JSON object, got {}", what,
                      j.type_name());
  struct Field {
    const char* name;
    std::string AuthConfig::*member;
  };
  static const Field kFields[] = {
      {"username", &AuthConfig::username},
      {"password", &AuthConfig::password},
      {"auth", &AuthConfig::auth},
      {"email", &AuthConfig::email},
      {"serveraddress", &AuthConfig::server_address},
      {"identitytoken", &AuthConfig::identity_token},
      {"registrytoken", &AuthConfig::registry_token},
  };
  for (const auto& [key, val] : j.items()) {
    const Field* f = nullptr;
    for (const auto& cand : kFields) {
      // Go's encoding/json matches keys case-insensitively.
      std::string lower;
      for (char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == cand.name) f = &cand;
    }
    if (!f) continue;  // docker ignores unknown keys here
    if (val.is_null()) continue;
    if (!val.is_string())
      return make_error(Errc::InvalidArgument, "{}: field {} must be a string, got {}", what, key,
                        val.type_name());
    a.*(f->member) = val.get<std::string>();
  }
  if (a.username.empty() && a.password.empty() && !a.auth.empty()) {
    auto raw = base64_decode_lenient(a.auth);
    if (!raw)
      return make_error(Errc::InvalidArgument, "{}: field auth: {}", what, raw.error().message);
    auto colon = raw->find(':');
    if (colon == std::string::npos)
      return make_error(Errc::InvalidArgument, "{}: field auth: expected base64(user:password)",
                        what);
    a.username = raw->substr(0, colon);
    a.password = raw->substr(colon + 1);
  }
  return a;
}

}  // namespace

Result<AuthConfig> decode_auth_config_json(std::string_view body, std::string_view what) {
  if (trim(body).empty()) return AuthConfig{};
  auto j = parse_json(body, what);
  if (!j) return j.error();
  return from_json(*j, what);
}

Result<AuthConfig> decode_registry_auth(std::string_view header) {
  header = trim(header);
  if (header.empty()) return AuthConfig{};
  auto raw = base64_decode_lenient(header);
  if (!raw)
    return make_error(Errc::InvalidArgument, "invalid X-Registry-Auth header: {}",
                      raw.error().message);
  auto a = decode_auth_config_json(*raw, "X-Registry-Auth");
  if (!a)
    return make_error(Errc::InvalidArgument, "invalid X-Registry-Auth header: {}",
                      a.error().message);
  return a;
}

}  // namespace berth::api
