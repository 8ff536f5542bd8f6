// registry/push.cc — writes, always against the origin: blob existence,
// cross-repository mount, blob upload (monolithic or chunked), manifest put.
#include "base/strings.h"
#include "registry/session.h"

namespace berth::registry::detail {
namespace {

Error push_denied(const Response& r) {
  std::string text = registry_error_text(r.body);
  return make_error(Errc::PermissionDenied, "{}",
                    text.empty() ? "denied: requested access to the resource is denied" : text);
}

Error push_error(const Response& r, std::string_view what) {
  if (r.status == 401 || r.status == 403) return push_denied(r);
  return http_error(r, what);
}

std::string with_query(const std::string& url, std::string_view kv) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(kv);
}

Call push_call(const Options& o, const oci::Reference& ref, const Credentials& cred) {
  Call c;
  c.base = origin_url(o, ref.domain());
  c.scopes = {scope_push(ref)};
  c.cred = &cred;
  return c;
}

}  // namespace

Result<bool> ClientImpl::blob_exists(const oci::Reference& ref, const Digest& d,
                                     const Credentials& cred) {
  Call c = push_call(*options(), ref, cred);
  c.method = "HEAD";
  c.head = true;
  c.path = repo_path(ref) + "/blobs/" + d.str();
  auto r = BERTH_TRY(send(c));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  return push_error(r, "HEAD " + c.base + c.path);
}

Result<bool> ClientImpl::mount_blob(const oci::Reference& ref, const Digest& d,
                                    const std::string& from_repo, const Credentials& cred) {
  Call c = push_call(*options(), ref, cred);
  c.method = "POST";
  c.has_body = true;
  c.path = repo_path(ref) + "/blobs/uploads/?mount=" + url_escape(d.str()) +
           "&from=" + url_escape(from_repo);
  c.scopes.push_back("repository:" + from_repo + ":pull");
  auto r = BERTH_TRY(send(c));
  if (r.status == 201) return true;
  if (r.status != 202) return push_error(r, "POST " + c.base + c.path);
  // The registry opened an upload instead of mounting: close it again.
  std::string loc = r.header("location");
  if (!loc.empty()) {
    auto url = resolve_url(c.base + c.path, loc);
    if (url) {
      Call del = push_call(*options(), ref, cred);
      del.method = "DELETE";
      del.path = *url;
      (void)send(del);  // best effort: an abandoned upload expires on its own
    }
  }
  return false;
}

Result<void> ClientImpl::push_blob(const oci::Reference& ref, const Digest& d, int64_t size,
                                   const std::function<Result<std::string>()>& read,
                                   const Progress& progress, const Credentials& cred) {
  auto o = options();
  const std::string start_path = repo_path(ref) + "/blobs/uploads/";
  // POST: opens an upload session and returns its URL.
  auto open_upload = [&]() -> Result<std::string> {
    Call c = push_call(*o, ref, cred);
    c.method = "POST";
    c.has_body = true;
    c.path = start_path;
    auto r = BERTH_TRY(send(c));
    if (r.status != 202) return push_error(r, "POST " + c.base + c.path);
    std::string loc = r.header("location");
    if (loc.empty())
      return make_error(Errc::Io, "registry opened an upload without a Location header");
    return resolve_url(c.base + c.path, loc);
  };
  auto finish = [&](const std::string& url, std::string body) -> Result<void> {
    Call c = push_call(*o, ref, cred);
    c.method = "PUT";
    c.has_body = true;
    c.path = with_query(url, "digest=" + url_escape(d.str()));
    c.headers.push_back("Content-Type: application/octet-stream");
    c.body = std::move(body);
    c.retries = 0;  // a half-applied PUT is not repeatable on the same session
    auto r = BERTH_TRY(send(c));
    if (r.status != 201 && r.status != 204 && r.status != 200) return push_error(r, "PUT " + url);
    return ok();
  };

  std::string pending;  // bytes read but not sent yet
  bool eof = false;
  auto fill = [&](size_t want) -> Result<void> {
    while (!eof && pending.size() < want) {
      std::string piece = BERTH_TRY(read());
      if (piece.empty()) {
        eof = true;
      } else {
        pending += piece;
      }
    }
    return ok();
  };

  if (size >= 0 && size <= o->chunked_upload_threshold) {
    // Monolithic: the bytes are in memory, so the whole upload can be retried.
    BERTH_TRY(fill(static_cast<size_t>(size) + 1));
    if (static_cast<int64_t>(pending.size()) != size)
      return make_error(Errc::InvalidArgument, "blob {}: read {} bytes, expected {}", d.str(),
                        pending.size(), size);
    for (int attempt = 0;; ++attempt) {
      auto r = [&]() -> Result<void> {
        std::string url = BERTH_TRY(open_upload());
        return finish(url, pending);
      }();
      bool retry = !r && r.error().code == Errc::Unavailable && attempt < o->retries;
      if (!retry) {
        if (r && progress) progress(size, size);
        return r;
      }
      if (!backoff(attempt, nullptr)) return make_error(Errc::Cancelled, "push cancelled");
    }
  }

  // Chunked: PATCH chunks of upload_chunk_size, then PUT ?digest= with no body.
  std::string url = BERTH_TRY(open_upload());
  const size_t chunk = static_cast<size_t>(o->upload_chunk_size);
  int64_t sent = 0;
  for (;;) {
    BERTH_TRY(fill(chunk));
    if (pending.empty()) break;
    size_t n = std::min(chunk, pending.size());
    Call c = push_call(*o, ref, cred);
    c.method = "PATCH";
    c.has_body = true;
    c.path = url;
    c.body = pending.substr(0, n);
    c.headers.push_back("Content-Type: application/octet-stream");
    c.headers.push_back(
        fmt::format("Content-Range: {}-{}", sent, sent + static_cast<int64_t>(n) - 1));
    c.retries = 0;
    auto r = BERTH_TRY(send(c));
    if (r.status != 202 && r.status != 204) return push_error(r, "PATCH " + url);
    pending.erase(0, n);
    sent += static_cast<int64_t>(n);
    if (progress) progress(sent, size);
    std::string loc = r.header("location");
    if (!loc.empty()) url = BERTH_TRY(resolve_url(url, loc));
  }
  if (size >= 0 && sent != size)
    return make_error(Errc::InvalidArgument, "blob {}: read {} bytes, expected {}", d.str(), sent,
                      size);
  return finish(url, std::string());
}

Result<Digest> ClientImpl::put_manifest(const oci::Reference& ref, const std::string& media_type,
                                        const std::string& body, const Credentials& cred) {
  Call c = push_call(*options(), ref, cred);
  c.method = "PUT";
  c.has_body = true;
  std::string target =
      ref.tag() ? *ref.tag() : (ref.digest() ? ref.digest()->str() : std::string("latest"));
  c.path = repo_path(ref) + "/manifests/" + target;
  c.headers.push_back("Content-Type: " + media_type);
  c.body = body;
  auto r = BERTH_TRY(send(c));
  if (r.status != 201 && r.status != 200 && r.status != 202)
    return push_error(r, "PUT " + c.base + c.path);
  Digest computed = sha256_of(body);
  std::string hdr = r.header("docker-content-digest");
  if (hdr.empty()) return computed;
  auto d = Digest::parse(hdr);
  if (!d) return computed;  // another algorithm: berth addresses manifests by sha256
  return *d;
}

}  // namespace berth::registry::detail
