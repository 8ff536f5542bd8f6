// oci/reference.h — image references with docker's normalization rules.
//
//   "memos"                         -> docker.io/library/memos:latest
//   "yidadaa/chatgpt-next-web"      -> docker.io/yidadaa/chatgpt-next-web:latest
//   "localhost:5000/a/b@sha256:..." -> domain localhost:5000, path a/b, digest
//   "index.docker.io/x" -> docker.io/library/x (index.docker.io is an alias)
// "library/" is added only on docker.io and only to one-component paths.
// A first component is a domain when it contains '.' or ':' or is "localhost"
// (distribution/reference's rule). Path components are lowercase
// [a-z0-9]+ joined by '.', '_', '__' or '-'+; tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
// the whole name is at most 255 characters. Uppercase in the repository is an
// error with docker's message "invalid reference format: repository name
// (library/Memos) must be lowercase". Domains follow distribution's current
// grammar: DNS labels or IPv4 ("127.0.0.1:5000"), or a bracketed IPv6 literal
// ("[::1]:5000"), with an optional numeric port. Other errors: "invalid
// reference format" alone for grammar violations (docker's text), with
// ": repository name must have at least one component" / ": repository name
// must not be more than 255 characters" / ": unsupported digest algorithm"
// details, and "invalid repository name (<64 hex>), cannot specify 64-byte
// hexadecimal strings" for a bare image id. Only sha256 digests are accepted.
// Depends on: base.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/result.h"

namespace berth::oci {

inline constexpr std::string_view kDockerHubDomain = "docker.io";

class Reference {
 public:
  // Parses and normalizes. With neither tag nor digest the tag is "latest"
  // (unless `default_tag` is false: used by push-all / search terms).
  // InvalidArgument with docker's wording "invalid reference format" + detail.
  static Result<Reference> parse(std::string_view s, bool default_tag = true);

  const std::string& domain() const { return domain_; }  // "docker.io", "127.0.0.1:5000"
  const std::string& path() const { return path_; }      // "library/memos"
  const std::optional<std::string>& tag() const { return tag_; }
  const std::optional<Digest>& digest() const { return digest_; }

  // "docker.io/library/memos"
  std::string name() const;
  // Fully qualified: "docker.io/library/memos:latest" / "...@sha256:..." /
  // "...:tag@sha256:..."
  std::string str() const;
  // Docker's familiar form: drops "docker.io/" and "library/":
  // "memos:latest", "yidadaa/x:1", "localhost:5000/a/b:c".
  std::string familiar() const;
  // familiar name without tag/digest: "memos".
  std::string familiar_name() const;

  Reference with_tag(std::string tag) const;  // drops the digest
  Reference with_digest(Digest d) const;      // keeps name, drops the tag
  Reference name_only() const;                // no tag, no digest

  bool is_docker_hub() const { return domain_ == kDockerHubDomain; }

  bool operator==(const Reference& o) const { return str() == o.str(); }

 private:
  std::string domain_;
  std::string path_;
  std::optional<std::string> tag_;
  std::optional<Digest> digest_;
};

// Docker's tag syntax check, for `docker tag`/`POST /images/{n}/tag?tag=`.
bool is_valid_tag(std::string_view tag);

}  // namespace berth::oci
