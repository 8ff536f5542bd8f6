// registry/session.h — the Client implementation's shared machinery:
// authenticated, retried, redirect-following requests. The Client methods are
// split by concern over pull.cc, push.cc and search.cc. Internal to registry/.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry/auth.h"
#include "registry/client.h"
#include "registry/curl_easy.h"
#include "registry/endpoints.h"

namespace berth::registry::detail {

// One logical request against a registry endpoint.
struct Call {
  std::string method = "GET";
  std::string base;  // endpoint base URL
  std::string path;  // "/v2/..." (with query), or an absolute URL (upload Location)
  std::vector<std::string> headers;
  std::string body;
  bool has_body = false;
  bool head = false;
  std::vector<std::string> scopes;  // token scopes this request needs
  const Credentials* cred = nullptr;
  std::function<Result<void>(std::string_view)> sink;
  std::function<Result<void>(const Response&)> on_start;
  const std::atomic<bool>* cancel = nullptr;
  int retries = -1;  // -1: Options::retries
};

class ClientImpl final : public Client {
 public:
  explicit ClientImpl(Options o) : opts_(std::make_shared<const Options>(std::move(o))) {}

  void set_options(Options opts) override;
  Result<Manifest> get_manifest(const oci::Reference& ref, const Credentials& cred) override;
  Result<Manifest> get_manifest_by_digest(const oci::Reference& ref, const Digest& d,
                                          const Credentials& cred) override;
  Result<BlobFetchResult> fetch_blob(const oci::Reference& ref, const Digest& d,
                                     const Credentials& cred, const BlobFetch& f,
                                     const Sink& sink) override;
  Result<bool> blob_exists(const oci::Reference& ref, const Digest& d,
                           const Credentials& cred) override;
  Result<bool> mount_blob(const oci::Reference& ref, const Digest& d, const std::string& from_repo,
                          const Credentials& cred) override;
  Result<void> push_blob(const oci::Reference& ref, const Digest& d, int64_t size,
                         const std::function<Result<std::string>()>& read, const Progress& progress,
                         const Credentials& cred) override;
  Result<Digest> put_manifest(const oci::Reference& ref, const std::string& media_type,
                              const std::string& body, const Credentials& cred) override;
  Result<std::vector<SearchResult>> search(const std::string& registry_domain,
                                           const std::string& term, int limit,
                                           const Credentials& cred) override;
  Result<std::vector<std::string>> list_tags(const oci::Reference& repo,
                                             const Credentials& cred) override;
  Result<std::string> login(const std::string& registry_domain, const Credentials& cred) override;

  std::shared_ptr<const Options> options() const;

  // Auth (challenge on 401, cached tokens), retries with backoff for
  // transport errors, 5xx and 429, redirects without Authorization across
  // hosts. The final response is returned whatever its status.
  Result<Response> send(const Call& c);
  // Sleeps the backoff before retry `attempt` (0-based); false when cancelled.
  bool backoff(int attempt, const std::atomic<bool>* cancel) const;

  // Tries `fn` on each read endpoint of `domain` (mirrors, then origin) and
  // returns the first success, or the origin's error.
  template <typename T, typename F>
  Result<T> on_read_endpoints(const std::string& domain, const Credentials& cred, F&& fn) {
    auto eps = read_endpoints(*options(), domain);
    static const Credentials kAnon;
    for (size_t i = 0; i + 1 < eps.size(); ++i) {
      // Credentials stay with the origin: a mirror is another party.
      auto r = fn(eps[i], kAnon);
      if (r || r.error().code == Errc::Cancelled) return r;
    }
    return fn(eps.back(), cred);
  }

  // Token endpoint exchange; `offline` asks for a refresh token (login).
  Result<TokenReply> fetch_token(const Challenge& ch, const std::vector<std::string>& scopes,
                                 const Credentials& cred, bool offline, bool use_cache);

 private:
  Result<Response> send_authed(const Call& c);
  Result<Response> exchange(const Call& c, const std::string& auth_header);
  Request base_request() const;

  mutable std::mutex mu_;
  std::shared_ptr<const Options> opts_;
  std::map<std::string, Challenge> challenges_;  // by endpoint authority
  TokenCache tokens_;
};

// Error for a non-success response: registry error text or the status.
Error http_error(const Response& r, std::string_view what);
Errc errc_for_status(long status);
std::string scope_pull(const oci::Reference& ref);
std::string scope_push(const oci::Reference& ref);
std::string repo_path(const oci::Reference& ref);  // "/v2/<path>"

}  // namespace berth::registry::detail
