// registry/client.h — OCI distribution / Docker registry HTTP API v2 client
// over libcurl. Transport only: it moves bytes and media types; image/
// decides what a manifest means.
//
// Endpoints: docker.io -> https://registry-1.docker.io (auth.docker.io tokens,
// index.docker.io/v1/search for search); any other domain -> https://<domain>,
// or http:// when the domain is in insecure-registries (CIDR or host:port) or
// is a loopback address (docker's rule: 127.0.0.0/8 and ::1 are insecure by
// default). Mirrors: an ordered list per registry domain (docker mirrors only
// docker.io; berth mirrors any registry): reads (manifests by digest, blobs,
// tags) try each mirror then the origin; writes always go to the origin.
// Credentials are sent only to the origin (a mirror is another party: it is
// read anonymously, tokens included). Any mirror failure (down, 404, auth,
// digest mismatch) falls through to the next endpoint; the origin's error is
// the one returned. Insecure means plain http (no https-without-verify try).
// Host names are not resolved for CIDR matching: only IP-literal domains.
//
// Auth: a request that gets 401 with WWW-Authenticate: Bearer realm=..,
// service=.., scope=.. fetches a token from the realm (anonymous, or with the
// credentials as basic auth; an identity token uses the OAuth2 refresh-token
// grant) and retries; Basic challenges retry with the credentials. The
// challenge is remembered per endpoint so later requests authenticate up
// front. Tokens are cached per (realm, service, scopes, credentials) until
// expires_in (minus a margin). The token reply may carry "token" or
// "access_token".
// Retries: connection errors and 5xx/429 retry up to `retries` times with
// exponential backoff (200 ms doubling, +-25% jitter); 4xx never retry.
// Monolithic blob pushes are retried whole (new upload session); chunked
// PATCH uploads are not retried (the stream cannot be rewound).
// Errors carry the registry's JSON error body as docker prints it:
// "<code lowercased>: <message>" (e.g. "manifest unknown: manifest unknown").
// Thread-safety: a Client may be used from several threads at once (each
// request uses its own curl easy handle; the token cache is locked).
// Depends on: base, oci, libcurl.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/result.h"
#include "oci/reference.h"

namespace berth::registry {

struct Credentials {
  std::string username;
  std::string password;        // or identity token
  std::string identity_token;  // docker's "identitytoken" (OAuth refresh)
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

struct Options {
  // "docker.io" -> {"https://mirror.example", "http://127.0.0.1:5001"}
  std::map<std::string, std::vector<std::string>> mirrors;
  std::vector<std::string> insecure_registries;  // "host:port" or CIDR
  int retries = 5;
  std::chrono::milliseconds backoff_base{200};
  std::chrono::seconds connect_timeout{30};
  // Abort a transfer slower than 1 byte/s for this long (stalled connection).
  std::chrono::seconds low_speed_time{60};
  std::string user_agent = "berth/0.1";
  // Docker Hub's endpoints (overridable so tests can stand in for Hub).
  std::string hub_registry_url = "https://registry-1.docker.io";
  std::string hub_index_url = "https://index.docker.io";  // v1 search
  // Blobs larger than this are pushed in PATCH chunks of upload_chunk_size.
  int64_t chunked_upload_threshold = int64_t{64} << 20;
  int64_t upload_chunk_size = int64_t{16} << 20;
};

// Media types the client asks for when fetching a manifest by tag.
extern const char* const kManifestAccept;  // docker v2 list + schema2, OCI index + manifest,
                                           // schema1 (so it can be refused by name)

struct Manifest {
  std::string media_type;  // Content-Type (or mediaType from the body when the header is generic)
  std::string body;        // raw bytes: their sha256 is the manifest digest
  Digest digest;           // verified: computed from body; must equal the
                           // requested digest or Docker-Content-Digest
};

// Receives a blob's bytes. Returning an error aborts the transfer.
using Sink = std::function<Result<void>(std::string_view)>;
// Progress of one transfer: bytes so far (incl. resumed offset) and total.
using Progress = std::function<void(int64_t current, int64_t total)>;

struct BlobFetch {
  int64_t offset = 0;                         // resume: request Range: bytes=offset-
  Progress progress;                          // optional
  const std::atomic<bool>* cancel = nullptr;  // optional: abort when true
};

struct BlobFetchResult {
  int64_t total = -1;      // Content-Length + offset, -1 if unknown
  bool restarted = false;  // server ignored Range (200): sink got the whole blob from byte 0
};

struct SearchResult {
  std::string name;
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_automated = false;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> create(Options opts);
  virtual ~Client() = default;
  virtual void set_options(Options opts) = 0;  // SIGHUP reload

  // GET /v2/<path>/manifests/<tag or digest>. NotFound -> Errc::NotFound with
  // docker's text "manifest for <ref> not found: manifest unknown: ...";
  // 401/403 after auth -> PermissionDenied ("pull access denied for <repo>,
  // repository does not exist or may require 'docker login'").
  virtual Result<Manifest> get_manifest(const oci::Reference& ref, const Credentials& cred) = 0;
  // Same, by digest within the repository of `ref`.
  virtual Result<Manifest> get_manifest_by_digest(const oci::Reference& ref, const Digest& d,
                                                  const Credentials& cred) = 0;

  // GET /v2/<path>/blobs/<digest> into sink, following redirects (S3/CDN
  // URLs without the Authorization header). Resumes with Range when
  // f.offset > 0; on 200 instead of 206 reports restarted=true. Retries
  // mid-transfer failures by resuming from the bytes already delivered.
  // Does not verify the digest: the content store does on commit.
  virtual Result<BlobFetchResult> fetch_blob(const oci::Reference& ref, const Digest& d,
                                             const Credentials& cred, const BlobFetch& f,
                                             const Sink& sink) = 0;

  // Push. blob_exists: HEAD. mount_blob: POST ?mount=&from= (true when the
  // registry mounted it, false when it started an upload instead, which is
  // then cancelled). push_blob: POST + PUT (monolithic; chunked PATCH for
  // blobs over 64 MiB) with the bytes from `read` (returns "" at EOF).
  virtual Result<bool> blob_exists(const oci::Reference& ref, const Digest& d,
                                   const Credentials& cred) = 0;
  virtual Result<bool> mount_blob(const oci::Reference& ref, const Digest& d,
                                  const std::string& from_repo, const Credentials& cred) = 0;
  virtual Result<void> push_blob(const oci::Reference& ref, const Digest& d, int64_t size,
                                 const std::function<Result<std::string>()>& read,
                                 const Progress& progress, const Credentials& cred) = 0;
  // PUT manifest under ref's tag (or digest). Returns the registry's digest.
  virtual Result<Digest> put_manifest(const oci::Reference& ref, const std::string& media_type,
                                      const std::string& body, const Credentials& cred) = 0;

  // Search. docker.io: index.docker.io/v1/search?q=&n=. Other registries:
  // /v2/_catalog filtered by substring of term (name = "host:port/repo").
  virtual Result<std::vector<SearchResult>> search(const std::string& registry_domain,
                                                   const std::string& term, int limit,
                                                   const Credentials& cred) = 0;
  // GET /v2/<path>/tags/list (follows Link pagination).
  virtual Result<std::vector<std::string>> list_tags(const oci::Reference& repo,
                                                     const Credentials& cred) = 0;
  // Verifies credentials (GET /v2/ with auth): docker login's check.
  // Returns the identity token if the registry issued one.
  virtual Result<std::string> login(const std::string& registry_domain,
                                    const Credentials& cred) = 0;
};

}  // namespace berth::registry
