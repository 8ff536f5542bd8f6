// oci/reference.cc — docker's reference grammar and normalization.
//
// The grammar is distribution/reference's (checked by hand-written scanners,
// one per production, instead of one large regular expression so each
// failure can be told apart); the normalization is docker's
// ParseNormalizedNamed: split the domain, alias index.docker.io, add
// "library/" to one-component Hub names, refuse uppercase in the repository.
#include "oci/reference.h"

#include <algorithm>
#include <cctype>

namespace berth::oci {
namespace {

constexpr std::string_view kLegacyHubDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr size_t kNameTotalLengthMax = 255;

Error bad_format(std::string_view detail = {}) {
  if (detail.empty()) return make_error(Errc::InvalidArgument, "invalid reference format");
  return make_error(Errc::InvalidArgument, "invalid reference format: {}", detail);
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+
bool valid_path_component(std::string_view c) {
  size_t i = 0;
  auto alnum_run = [&] {
    size_t start = i;
    while (i < c.size() && is_lower_alnum(c[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  return std::all_of(c.begin(), c.end(), [](char ch) { return is_alnum(ch) || ch == '-'; });
}

// domain := host (':' [0-9]+)?, host := domain-name | '[' [a-fA-F0-9:]+ ']'
// (IPv4 literals are domain-names too).
bool valid_domain(std::string_view d) {
  std::string_view host = d;
  std::string_view port;
  bool has_port = false;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    std::string_view inner = d.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) { return is_hex(c) || c == ':'; }))
      return false;
    host = d.substr(0, close + 1);
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    size_t colon = d.find(':');
    if (colon != std::string_view::npos) {
      host = d.substr(0, colon);
      port = d.substr(colon + 1);
      has_port = true;
    }
    size_t start = 0;
    while (true) {
      size_t dot = host.find('.', start);
      std::string_view comp = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (!valid_domain_component(comp)) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (has_port) {
    if (port.empty()) return false;
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  return true;
}

// algorithm := [a-z0-9]+ ([+._-][a-z0-9]+)*, encoded := [a-zA-Z0-9=_-]{32,}
Result<Digest> parse_digest_part(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad_format();
  std::string_view alg = s.substr(0, colon);
  std::string_view enc = s.substr(colon + 1);
  for (size_t i = 0; i < alg.size(); ++i) {
    char c = alg[i];
    bool sep = c == '+' || c == '.' || c == '_' || c == '-';
    if (sep) {
      if (i == 0 || i + 1 == alg.size() || !is_lower_alnum(alg[i + 1])) return bad_format();
    } else if (!is_lower_alnum(c)) {
      return bad_format();
    }
  }
  if (enc.size() < 32 || !std::all_of(enc.begin(), enc.end(), [](char c) {
        return is_alnum(c) || c == '=' || c == '_' || c == '-';
      }))
    return bad_format();
  if (alg != "sha256") return bad_format(fmt::format("unsupported digest algorithm {:?}", alg));
  auto d = Digest::parse(s);
  if (!d) return bad_format("invalid checksum digest format");
  return d;
}

bool is_hex64_lower(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// "library/x" but not "library/a/b": docker's familiar form strips only the former.
bool starts_with_library(std::string_view p) {
  return p.substr(0, kOfficialPrefix.size()) == kOfficialPrefix &&
         p.find('/', kOfficialPrefix.size()) == std::string_view::npos;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !is_word(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

Result<Reference> Reference::parse(std::string_view s, bool default_tag) {
  if (s.empty()) return bad_format("repository name must have at least one component");
  if (is_hex64_lower(s))
    return make_error(Errc::InvalidArgument,
                      "invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
                      s);
  Reference r;
  std::string_view rest = s;
  // "@digest" ends the reference; the name itself can contain no '@'.
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    r.digest_ = BERTH_TRY(parse_digest_part(rest.substr(at + 1)));
    rest = rest.substr(0, at);
  }
  // ":tag" is the last ':' after the last '/' (an earlier ':' is a port).
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!is_valid_tag(tag)) return bad_format();
    r.tag_ = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad_format("repository name must have at least one component");

  // Docker's domain split: the first component is a domain when it contains
  // '.' or ':' or is "localhost"; otherwise the whole name is on Docker Hub.
  std::string_view remainder = rest;
  size_t first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      r.domain_ = std::string(head);
      remainder = rest.substr(first + 1);
    }
  }
  if (r.domain_.empty() || r.domain_ == kLegacyHubDomain) r.domain_ = kDockerHubDomain;
  r.path_ = std::string(remainder);
  if (r.domain_ == kDockerHubDomain && remainder.find('/') == std::string_view::npos)
    r.path_ = std::string(kOfficialPrefix) + r.path_;

  if (to_lower(r.path_) != r.path_)
    return bad_format(fmt::format("repository name ({}) must be lowercase", r.path_));
  if (!valid_domain(r.domain_)) return bad_format();
  if (remainder.empty()) return bad_format("repository name must have at least one component");
  std::string_view p = r.path_;
  while (true) {
    size_t sl = p.find('/');
    if (!valid_path_component(p.substr(0, sl))) return bad_format();
    if (sl == std::string_view::npos) break;
    p = p.substr(sl + 1);
  }
  if (r.domain_.size() + 1 + r.path_.size() > kNameTotalLengthMax)
    return bad_format("repository name must not be more than 255 characters");
  if (default_tag && !r.tag_ && !r.digest_) r.tag_ = "latest";
  return r;
}

std::string Reference::name() const { return domain_ + "/" + path_; }

std::string Reference::str() const {
  std::string s = name();
  if (tag_) s += ":" + *tag_;
  if (digest_) s += "@" + digest_->str();
  return s;
}

std::string Reference::familiar_name() const {
  if (domain_ != kDockerHubDomain) return name();
  std::string_view p = path_;
  if (starts_with_library(p)) return std::string(p.substr(kOfficialPrefix.size()));
  return path_;
}

std::string Reference::familiar() const {
  std::string s = familiar_name();
  if (tag_) s += ":" + *tag_;
  if (digest_) s += "@" + digest_->str();
  return s;
}

Reference Reference::with_tag(std::string tag) const {
  Reference r = name_only();
  r.tag_ = std::move(tag);
  return r;
}

Reference Reference::with_digest(Digest d) const {
  Reference r = name_only();
  r.digest_ = std::move(d);
  return r;
}

Reference Reference::name_only() const {
  Reference r;
  r.domain_ = domain_;
  r.path_ = path_;
  return r;
}

}  // namespace berth::oci
