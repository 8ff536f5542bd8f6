// registry/auth.h — WWW-Authenticate challenges and the bearer token cache.
//
// parse_challenges follows RFC 7235: a header holds one or more challenges,
// each a scheme followed by either a token68 or comma-separated auth-params
// (name=token or name="quoted string" with backslash escapes). Parameter
// names are case-insensitive (kept lowercased).
// TokenCache keys tokens by (realm, service, scopes) and drops them at their
// expiry (expires_in, default 60 s as in the distribution token spec) minus a
// safety margin. Internal to registry/.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::registry::detail {

struct Challenge {
  std::string scheme;  // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;
  std::string param(const std::string& name) const;
};

std::vector<Challenge> parse_challenges(std::string_view header);

// Token endpoint answer: {"token": ..} or {"access_token": ..}, expires_in,
// refresh_token (docker's identity token).
struct TokenReply {
  std::string token;
  std::chrono::seconds expires_in{60};
  std::string refresh_token;
};
Result<TokenReply> parse_token_reply(std::string_view body);

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  std::optional<std::string> get(const std::string& key);
  void put(const std::string& key, const std::string& token, std::chrono::seconds ttl);
  static std::string key(const std::string& realm, const std::string& service,
                         const std::vector<std::string>& scopes, const std::string& user);

 private:
  struct Entry {
    std::string token;
    Clock::time_point expires;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// The registry's error body {"errors":[{"code","message","detail"}]} as
// docker prints it: "<code lowercased, '_' -> ' '>: <message>", several
// joined by "; ". Empty when the body is not such a document.
std::string registry_error_text(std::string_view body);

}  // namespace berth::registry::detail
