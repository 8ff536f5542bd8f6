// registry/auth.cc — challenge parsing, token replies, token cache, error bodies.
#include "registry/auth.h"

#include <algorithm>
#include <cctype>

#include "base/json.h"
#include "base/strings.h"

namespace berth::registry::detail {
namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() {
    skip_ws();
    return i_ >= s_.size();
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string token() {
    skip_ws();
    size_t start = i_;
    while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  // token68 may end with '='; auth-param values are token or quoted-string.
  std::string value() {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '"') {
      ++i_;
      std::string out;
      while (i_ < s_.size() && s_[i_] != '"') {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        out += s_[i_++];
      }
      if (i_ < s_.size()) ++i_;  // closing quote
      return out;
    }
    // Unquoted values should be tokens, but servers send bare URLs
    // ("realm=https://x/token"): take everything up to the next separator.
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ' ' && s_[i_] != '\t') ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  size_t pos() const { return i_; }
  void set_pos(size_t p) { i_ = p; }
  char peek() {
    skip_ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string Challenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_challenges(std::string_view header) {
  std::vector<Challenge> out;
  Scanner sc(header);
  while (!sc.done()) {
    if (sc.eat(',')) continue;  // empty list elements are allowed
    std::string scheme = sc.token();
    if (scheme.empty()) break;  // garbage: stop with what was understood
    Challenge ch;
    ch.scheme = lower(scheme);
    // Params until the next "scheme" (a token not followed by '=').
    while (!sc.done()) {
      size_t save = sc.pos();
      if (sc.eat(',')) continue;
      std::string name = sc.token();
      if (name.empty()) {
        sc.set_pos(save);
        break;
      }
      if (!sc.eat('=')) {
        sc.set_pos(save);  // next challenge's scheme
        break;
      }
      if (sc.peek() == '=' || sc.peek() == ',' || sc.peek() == '\0') {
        // token68 ("Basic abc==") or an empty value.
        std::string pad;
        while (sc.eat('=')) pad += '=';
        ch.params["token68"] = name + "=" + pad;
        continue;
      }
      ch.params[lower(name)] = sc.value();
    }
    out.push_back(std::move(ch));
  }
  return out;
}

Result<TokenReply> parse_token_reply(std::string_view body) {
  auto j = BERTH_TRY(parse_json(body, "token response"));
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "token response is not an object");
  TokenReply r;
  auto str = [&](const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.token = str("token");
  if (r.token.empty()) r.token = str("access_token");
  if (r.token.empty())
    return make_error(Errc::InvalidArgument, "token response has neither token nor access_token");
  r.refresh_token = str("refresh_token");
  if (auto it = j.find("expires_in"); it != j.end() && it->is_number_integer()) {
    long long v = it->get<long long>();
    // The spec's minimum is 60 s; smaller values are treated as 60.
    r.expires_in = std::chrono::seconds(std::max<long long>(v, 60));
  }
  return r;
}

std::optional<std::string> TokenCache::get(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (Clock::now() >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.token;
}

void TokenCache::put(const std::string& key, const std::string& token, std::chrono::seconds ttl) {
  // Refresh 10 s early so a token never expires in the middle of a request.
  auto margin = std::min(ttl / 2, std::chrono::seconds(10));
  std::lock_guard lk(mu_);
  entries_[key] = Entry{token, Clock::now() + ttl - margin};
}

std::string TokenCache::key(const std::string& realm, const std::string& service,
                            const std::vector<std::string>& scopes, const std::string& user) {
  std::vector<std::string> s = scopes;
  std::sort(s.begin(), s.end());
  return realm + "\n" + service + "\n" + join(s, " ") + "\n" + user;
}

std::string registry_error_text(std::string_view body) {
  if (body.empty() || body.front() != '{') return {};
  auto j = parse_json(body, "registry error");
  if (!j || !j->is_object()) return {};
  auto it = j->find("errors");
  if (it == j->end() || !it->is_array()) {
    // Token servers answer {"details": "..."} (Hub) or {"error": "..."}.
    for (const char* k : {"details", "error", "message"}) {
      auto f = j->find(k);
      if (f != j->end() && f->is_string()) return f->get<std::string>();
    }
    return {};
  }
  std::vector<std::string> parts;
  for (const auto& e : *it) {
    if (!e.is_object()) continue;
    std::string code, msg;
    if (auto c = e.find("code"); c != e.end() && c->is_string()) code = c->get<std::string>();
    if (auto m = e.find("message"); m != e.end() && m->is_string()) msg = m->get<std::string>();
    std::replace(code.begin(), code.end(), '_', ' ');
    code = lower(code);
    if (code.empty()) {
      parts.push_back(msg);
    } else if (msg.empty()) {
      parts.push_back(code);
    } else {
      parts.push_back(code + ": " + msg);
    }
  }
  return join(parts, "; ");
}

}  // namespace berth::registry::detail
