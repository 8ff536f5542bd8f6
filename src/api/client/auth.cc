#include "api/client/auth.h"

#include <openssl/evp.h>

#include "base/json.h"

namespace berth::api::client {

std::string base64_encode(std::string_view in, bool url_safe) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  if (url_safe)
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

Result<std::string> base64_decode(std::string_view in) {
  std::string s(in);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      return make_error(Errc::InvalidArgument, "invalid base64 data");
  std::string out(s.size() / 4 * 3, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return make_error(Errc::InvalidArgument, "invalid base64 data");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = 0;
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, static_cast<size_t>(n)));
  return out;
}

std::string encode_registry_auth(const RegistryAuth& a) {
  Json j = Json::object();
  if (!a.username.empty()) j["username"] = a.username;
  if (!a.password.empty()) j["password"] = a.password;
  if (!a.server_address.empty()) j["serveraddress"] = a.server_address;
  if (!a.identity_token.empty()) j["identitytoken"] = a.identity_token;
  return base64_encode(dump_json(j), true);
}

}  // namespace berth::api::client
