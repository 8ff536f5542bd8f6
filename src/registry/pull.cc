// registry/pull.cc — reads: manifests (verified by digest), blobs (streamed,
// resumable), tag lists. Each read tries the domain's mirrors, then the origin.
#include "base/json.h"
#include "base/strings.h"
#include "registry/session.h"

namespace berth::registry::detail {
namespace {

constexpr size_t kMaxManifestBytes = size_t{4} << 20;
constexpr int kMaxPages = 10000;

std::string manifest_media_type(const Response& r) {
  std::string ct = r.header("content-type");
  ct = std::string(trim(std::string_view(ct).substr(0, ct.find(';'))));
  bool generic = ct.empty() || ct == "application/json" || ct == "text/plain" ||
                 ct == "application/octet-stream";
  if (!generic) return ct;
  auto j = parse_json(r.body, "manifest");
  if (!j || !j->is_object()) return ct;
  if (auto mt = j->find("mediaType"); mt != j->end() && mt->is_string())
    return mt->get<std::string>();
  if (auto sv = j->find("schemaVersion"); sv != j->end() && *sv == 1)
    return j->contains("signatures") ? "application/vnd.docker.distribution.manifest.v1+prettyjws"
                                     : "application/vnd.docker.distribution.manifest.v1+json";
  return ct;
}

// A failing mirror is retried once at most: the next endpoint is the better
// retry (docker falls back from a mirror at once).
int endpoint_retries(const Options& o, const Endpoint& ep) {
  return ep.mirror ? std::min(o.retries, 1) : o.retries;
}

Error pull_denied(const oci::Reference& ref, const Response& r) {
  std::string text = registry_error_text(r.body);
  return make_error(Errc::PermissionDenied,
                    "pull access denied for {}, repository does not exist or may require "
                    "'docker login': {}",
                    ref.familiar_name(),
                    text.empty() ? "denied: requested access to the resource is denied" : text);
}

// "<url>; rel=\"next\"" -> url; "" when there is no next page.
std::string next_link(const Response& r) {
  for (auto [it, end] = r.headers.equal_range("link"); it != end; ++it) {
    const std::string& v = it->second;
    size_t lt = v.find('<');
    size_t gt = v.find('>', lt == std::string::npos ? 0 : lt);
    if (lt == std::string::npos || gt == std::string::npos) continue;
    if (v.find("rel=\"next\"", gt) == std::string::npos &&
        v.find("rel=next", gt) == std::string::npos)
      continue;
    return v.substr(lt + 1, gt - lt - 1);
  }
  return {};
}

Result<Manifest> fetch_manifest(ClientImpl& c, const oci::Reference& ref,
                                const std::string& tag_or_digest, const std::optional<Digest>& want,
                                const std::string& shown, const Credentials& cred) {
  return c.on_read_endpoints<Manifest>(
      ref.domain(), cred, [&](const Endpoint& ep, const Credentials& cr) -> Result<Manifest> {
        Call call;
        call.base = ep.base;
        call.path = repo_path(ref) + "/manifests/" + tag_or_digest;
        call.headers.push_back(std::string("Accept: ") + kManifestAccept);
        call.scopes = {scope_pull(ref)};
        call.cred = &cr;
        call.retries = endpoint_retries(*c.options(), ep);
        auto r = BERTH_TRY(c.send(call));
        if (r.status == 404) {
          std::string text = registry_error_text(r.body);
          return make_error(Errc::NotFound, "manifest for {} not found: {}", shown,
                            text.empty() ? "manifest unknown" : text);
        }
        if (r.status == 401 || r.status == 403) return pull_denied(ref, r);
        if (r.status != 200) return http_error(r, "GET " + call.base + call.path);
        if (r.body_truncated || r.body.size() > kMaxManifestBytes)
          return make_error(Errc::InvalidArgument, "manifest for {} is larger than {} bytes", shown,
                            kMaxManifestBytes);
        Manifest m;
        m.body = std::move(r.body);
        m.digest = sha256_of(m.body);
        std::optional<Digest> expected = want;
        if (!expected) {
          std::string hdr = r.header("docker-content-digest");
          if (!hdr.empty()) {
            auto d = Digest::parse(hdr);
            if (d) expected = *d;
          }
        }
        if (expected && *expected != m.digest)
          return make_error(Errc::Io,
                            "manifest digest mismatch for {} from {}: content is {}, expected {}",
                            shown, ep.base, m.digest.str(), expected->str());
        Response typed;
        typed.headers = r.headers;
        typed.body = m.body;
        m.media_type = manifest_media_type(typed);
        return m;
      });
}

}  // namespace

Result<Manifest> ClientImpl::get_manifest(const oci::Reference& ref, const Credentials& cred) {
  if (ref.digest()) return get_manifest_by_digest(ref, *ref.digest(), cred);
  std::string tag = ref.tag().value_or("latest");
  return fetch_manifest(*this, ref, tag, std::nullopt, ref.with_tag(tag).familiar(), cred);
}

Result<Manifest> ClientImpl::get_manifest_by_digest(const oci::Reference& ref, const Digest& d,
                                                    const Credentials& cred) {
  return fetch_manifest(*this, ref, d.str(), d, ref.with_digest(d).familiar(), cred);
}

Result<BlobFetchResult> ClientImpl::fetch_blob(const oci::Reference& ref, const Digest& d,
                                               const Credentials& cred, const BlobFetch& f,
                                               const Sink& sink) {
  if (f.offset < 0) return make_error(Errc::InvalidArgument, "blob offset must be >= 0");
  return on_read_endpoints<BlobFetchResult>(
      ref.domain(), cred,
      [&](const Endpoint& ep, const Credentials& cr) -> Result<BlobFetchResult> {
        BlobFetchResult res;
        int64_t pos = f.offset;  // absolute offset of the next byte the sink expects
        int64_t skip = 0;        // bytes of this response the sink already has
        int retries = endpoint_retries(*options(), ep);
        int failures = 0;
        const std::string path = repo_path(ref) + "/blobs/" + d.str();
        for (;;) {
          if (f.cancel && f.cancel->load())
            return make_error(Errc::Cancelled, "blob {}: cancelled", d.str());
          Call call;
          call.base = ep.base;
          call.path = path;
          if (pos > 0) call.headers.push_back(fmt::format("Range: bytes={}-", pos));
          call.scopes = {scope_pull(ref)};
          call.cred = &cr;
          call.cancel = f.cancel;
          call.retries = 0;  // this loop retries, resuming where the sink stopped
          const int64_t requested = pos;
          call.on_start = [&](const Response& r) -> Result<void> {
            auto len = parse_int(r.header("content-length"));
            if (r.status == 206) {
              std::string cr_hdr = r.header("content-range");  // "bytes a-b/total"
              auto sp = cr_hdr.find(' ');
              auto dash = cr_hdr.find('-');
              auto slash = cr_hdr.find('/');
              if (sp != std::string::npos && dash != std::string::npos) {
                auto start = parse_int(cr_hdr.substr(sp + 1, dash - sp - 1));
                if (start && *start != requested)
                  return make_error(Errc::Io, "blob {}: registry answered range {} for offset {}",
                                    d.str(), cr_hdr, requested);
              }
              auto tot =
                  slash == std::string::npos ? std::nullopt : parse_int(cr_hdr.substr(slash + 1));
              res.total = tot ? *tot : (len ? *len + requested : -1);
              skip = 0;
            } else {
              res.total = len ? *len : -1;
              if (requested > 0 && requested == f.offset && !res.restarted) {
                // Range ignored before the sink got anything: start over.
                res.restarted = true;
                pos = 0;
                skip = 0;
              } else {
                skip = requested;  // the sink already has these bytes
              }
            }
            return ok();
          };
          call.sink = [&](std::string_view chunk) -> Result<void> {
            if (skip > 0) {
              size_t n = static_cast<size_t>(std::min<int64_t>(skip, chunk.size()));
              chunk.remove_prefix(n);
              skip -= static_cast<int64_t>(n);
              if (chunk.empty()) return ok();
            }
            BERTH_TRY(sink(chunk));
            pos += static_cast<int64_t>(chunk.size());
            if (f.progress) f.progress(pos, res.total);
            return ok();
          };
          const int64_t before = pos;
          auto r = send(call);
          if (r && (r->status == 200 || r->status == 206)) {
            if (res.total < 0) res.total = pos;
            return res;
          }
          if (r && r->status == 416 && pos > 0) {
            res.total = pos;  // nothing after `pos`: the caller already has it all
            return res;
          }
          bool retryable =
              r ? (r->status == 429 || r->status >= 500) : r.error().code == Errc::Unavailable;
          if (pos > before) failures = 0;  // progress was made: resume afresh
          if (retryable && failures < retries) {
            if (!backoff(failures++, f.cancel))
              return make_error(Errc::Cancelled, "blob {}: cancelled", d.str());
            continue;
          }
          if (!r) return std::move(r).error();
          if (r->status == 401 || r->status == 403) return pull_denied(ref, *r);
          return http_error(*r, "GET " + ep.base + path);
        }
      });
}

Result<std::vector<std::string>> ClientImpl::list_tags(const oci::Reference& repo,
                                                       const Credentials& cred) {
  return on_read_endpoints<std::vector<std::string>>(
      repo.domain(), cred,
      [&](const Endpoint& ep, const Credentials& cr) -> Result<std::vector<std::string>> {
        std::vector<std::string> tags;
        std::string url = ep.base + repo_path(repo) + "/tags/list";
        for (int page = 0; page < kMaxPages && !url.empty(); ++page) {
          Call call;
          call.base = ep.base;
          call.path = url;
          call.scopes = {scope_pull(repo)};
          call.cred = &cr;
          call.retries = endpoint_retries(*options(), ep);
          auto r = BERTH_TRY(send(call));
          if (r.status == 404) {
            std::string text = registry_error_text(r.body);
            return make_error(Errc::NotFound, "repository {} not found: {}", repo.familiar_name(),
                              text.empty() ? "name unknown" : text);
          }
          if (r.status == 401 || r.status == 403) return pull_denied(repo, r);
          if (r.status != 200) return http_error(r, "GET " + url);
          auto j = BERTH_TRY_CTX(parse_json(r.body, "tag list"), "GET " + url);
          if (auto t = j.find("tags"); j.is_object() && t != j.end() && t->is_array()) {
            for (const auto& v : *t)
              if (v.is_string()) tags.push_back(v.get<std::string>());
          }
          std::string next = next_link(r);
          url = next.empty() ? std::string() : BERTH_TRY(resolve_url(url, next));
        }
        return tags;
      });
}

}  // namespace berth::registry::detail
