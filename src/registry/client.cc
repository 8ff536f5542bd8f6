// registry/client.cc — Client construction and the request machinery:
// authentication on challenge, retries with backoff, redirects.
#include <openssl/evp.h>

#include <random>
#include <thread>

#include "base/strings.h"
#include "registry/session.h"

namespace berth::registry {

const char* const kManifestAccept =
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws, "
    "application/vnd.docker.distribution.manifest.v1+json";

Result<std::unique_ptr<Client>> Client::create(Options opts) {
  if (opts.retries < 0) return make_error(Errc::InvalidArgument, "registry retries must be >= 0");
  if (opts.upload_chunk_size <= 0 || opts.chunked_upload_threshold < 0)
    return make_error(Errc::InvalidArgument, "registry upload chunk sizes must be positive");
  // curl (and through it OpenSSL, GnuTLS, p11-kit) is initialised on the
  // first transfer, not here: an idle daemon that never talks to a registry
  // keeps those libraries' init-time pages out of its RSS (~4 MiB).
  return std::unique_ptr<Client>(new detail::ClientImpl(std::move(opts)));
}

namespace detail {
namespace {

constexpr int kMaxRedirects = 10;

std::string base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string basic_header(const Credentials& c) {
  return "Authorization: Basic " + base64(c.username + ":" + c.password);
}

bool retryable_status(long s) { return s == 429 || (s >= 500 && s <= 599 && s != 501); }

std::string full_url(const Call& c) {
  if (c.path.find("://") != std::string::npos) return c.path;
  return c.base + c.path;
}

}  // namespace

Errc errc_for_status(long s) {
  switch (s) {
    case 400:
      return Errc::InvalidArgument;
    case 401:
    case 403:
      return Errc::PermissionDenied;
    case 404:
      return Errc::NotFound;
    case 409:
      return Errc::Conflict;
    case 416:
      return Errc::InvalidArgument;
    default:
      return s == 429 || s >= 500 ? Errc::Unavailable : Errc::Internal;
  }
}

Error http_error(const Response& r, std::string_view what) {
  std::string text = registry_error_text(r.body);
  if (text.empty()) {
    std::string snippet(trim(std::string_view(r.body).substr(0, 200)));
    text = fmt::format("unexpected status {} from {}", r.status, what);
    if (!snippet.empty() && snippet.front() != '<') text += ": " + snippet;
  }
  return Error{errc_for_status(r.status), 0, text};
}

std::string repo_path(const oci::Reference& ref) { return "/v2/" + ref.path(); }
std::string scope_pull(const oci::Reference& ref) { return "repository:" + ref.path() + ":pull"; }
std::string scope_push(const oci::Reference& ref) {
  return "repository:" + ref.path() + ":pull,push";
}

void ClientImpl::set_options(Options opts) {
  std::lock_guard lk(mu_);
  opts_ = std::make_shared<const Options>(std::move(opts));
}

std::shared_ptr<const Options> ClientImpl::options() const {
  std::lock_guard lk(mu_);
  return opts_;
}

Request ClientImpl::base_request() const {
  auto o = options();
  Request r;
  r.connect_timeout = o->connect_timeout;
  r.low_speed_time = o->low_speed_time;
  r.user_agent = o->user_agent;
  return r;
}

bool ClientImpl::backoff(int attempt, const std::atomic<bool>* cancel) const {
  auto o = options();
  thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(o->backoff_base.count()) *
                static_cast<double>(1 << std::min(attempt, 10));
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
  // Sleep in slices so a cancellation is noticed promptly.
  while (std::chrono::steady_clock::now() < until) {
    if (cancel && cancel->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
  }
  return !(cancel && cancel->load());
}

Result<Response> ClientImpl::send(const Call& c) {
  int retries = c.retries >= 0 ? c.retries : options()->retries;
  for (int attempt = 0;; ++attempt) {
    auto r = send_authed(c);
    bool retry = r ? retryable_status(r->status) : r.error().code == Errc::Unavailable;
    // Bytes already streamed to a sink cannot be taken back: the caller resumes.
    if (r && r->sink_bytes > 0) retry = false;
    if (!retry || attempt >= retries) return r;
    if (r && (r->status == 429 || r->status == 503)) {
      // Honour a short Retry-After (seconds); longer waits fall back to backoff.
      auto after = parse_int(r->header("retry-after"));
      if (after && *after > 0 && *after <= 10) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(*after);
        while (std::chrono::steady_clock::now() < until && !(c.cancel && c.cancel->load()))
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (!backoff(attempt, c.cancel))
      return make_error(Errc::Cancelled, "{} {}: cancelled", c.method, full_url(c));
  }
}

Result<Response> ClientImpl::exchange(const Call& c, const std::string& auth_header) {
  Request req = base_request();
  req.method = c.method;
  req.url = full_url(c);
  req.headers = c.headers;
  req.body = c.body;
  req.has_body = c.has_body;
  req.head = c.head;
  req.sink = c.sink;
  req.on_start = c.on_start;
  req.cancel = c.cancel;
  const std::string origin = url_authority(req.url);
  for (int hop = 0;; ++hop) {
    Request r = req;
    // Authorization goes only to the host it was issued for: a redirect to
    // a CDN or object store must not receive the registry's credentials.
    if (!auth_header.empty() && url_authority(r.url) == origin) r.headers.push_back(auth_header);
    auto resp = BERTH_TRY(perform(r));
    bool redirect = resp.status == 301 || resp.status == 302 || resp.status == 303 ||
                    resp.status == 307 || resp.status == 308;
    std::string loc = resp.header("location");
    if (!redirect || loc.empty()) return resp;
    if (hop >= kMaxRedirects)
      return make_error(Errc::Unavailable, "{} {}: too many redirects", c.method, req.url);
    req.url = BERTH_TRY(resolve_url(req.url, loc));
    if (resp.status == 303 && !req.head) {
      req.method = "GET";
      req.has_body = false;
      req.body.clear();
    }
  }
}

Result<Response> ClientImpl::send_authed(const Call& c) {
  static const Credentials kAnon;
  const Credentials& cred = c.cred ? *c.cred : kAnon;
  std::string authority = url_authority(full_url(c));
  std::optional<Challenge> known;
  {
    std::lock_guard lk(mu_);
    if (auto it = challenges_.find(authority); it != challenges_.end()) known = it->second;
  }
  // Pre-authenticate when the endpoint's challenge is known, saving a 401
  // round trip per request.
  std::string auth;
  bool from_cache = false;
  if (known && known->scheme == "bearer") {
    auto t = fetch_token(*known, c.scopes, cred, false, true);
    if (t) {
      auth = "Authorization: Bearer " + t->token;
      from_cache = true;
    }
  } else if (known && known->scheme == "basic" && !cred.username.empty()) {
    auth = basic_header(cred);
  }
  auto r = BERTH_TRY(exchange(c, auth));
  if (r.status != 401) return r;

  auto chs = parse_challenges(r.header("www-authenticate"));
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const auto& ch : chs) {
    if (ch.scheme == "bearer" && !ch.param("realm").empty() && !bearer) bearer = &ch;
    if (ch.scheme == "basic" && !basic) basic = &ch;
  }
  std::string next;
  if (bearer) {
    {
      std::lock_guard lk(mu_);
      challenges_[authority] = *bearer;
    }
    std::vector<std::string> scopes = c.scopes;
    // The registry names the access it wants; ask for that too.
    for (const auto& s : split(bearer->param("scope"), ' ', true))
      if (std::find(scopes.begin(), scopes.end(), s) == scopes.end()) scopes.push_back(s);
    // A cached token that was refused is fetched anew.
    auto t = BERTH_TRY(fetch_token(*bearer, scopes, cred, false, !from_cache));
    next = "Authorization: Bearer " + t.token;
  } else if (basic && !cred.username.empty()) {
    {
      std::lock_guard lk(mu_);
      challenges_[authority] = *basic;
    }
    next = basic_header(cred);
  }
  if (next.empty() || next == auth) return r;  // nothing new to try: the caller maps 401
  return exchange(c, next);
}

Result<TokenReply> ClientImpl::fetch_token(const Challenge& ch,
                                           const std::vector<std::string>& scopes,
                                           const Credentials& cred, bool offline, bool use_cache) {
  const std::string realm = ch.param("realm");
  const std::string service = ch.param("service");
  std::string key = TokenCache::key(
      realm, service, scopes, cred.username + "\n" + cred.password + "\n" + cred.identity_token);
  if (use_cache && !offline) {
    if (auto t = tokens_.get(key)) return TokenReply{*t, {}, {}};
  }
  Request req = base_request();
  const std::string client_id = "berth";
  if (!cred.identity_token.empty()) {
    // OAuth2 refresh-token grant (docker's identity token).
    req.method = "POST";
    req.url = realm;
    req.has_body = true;
    req.body = "grant_type=refresh_token&client_id=" + client_id +
               "&refresh_token=" + url_escape(cred.identity_token) +
               "&service=" + url_escape(service);
    if (!scopes.empty()) req.body += "&scope=" + url_escape(join(scopes, " "));
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    std::string q;
    auto add = [&q](std::string_view k, std::string_view v) {
      q += (q.empty() ? "?" : "&") + std::string(k) + "=" + url_escape(v);
    };
    if (!service.empty()) add("service", service);
    for (const auto& s : scopes) add("scope", s);
    if (!cred.username.empty()) add("account", cred.username);
    if (offline) {
      add("offline_token", "true");
      add("client_id", client_id);
    }
    req.url = realm + q;
    if (!cred.username.empty()) req.headers.push_back(basic_header(cred));
  }
  int retries = options()->retries;
  for (int attempt = 0;; ++attempt) {
    auto r = perform(req);
    bool retry = r ? retryable_status(r->status) : r.error().code == Errc::Unavailable;
    if (retry && attempt < retries) {
      if (!backoff(attempt, nullptr)) return make_error(Errc::Cancelled, "token fetch cancelled");
      continue;
    }
    if (!r) return std::move(r).error().context("fetching registry token");
    if (r->status == 401 || r->status == 403) {
      std::string text = registry_error_text(r->body);
      if (!cred.empty())
        return make_error(Errc::PermissionDenied, "unauthorized: incorrect username or password");
      return make_error(Errc::PermissionDenied, "unauthorized: {}",
                        text.empty() ? "authentication required" : text);
    }
    if (r->status != 200) return http_error(*r, "token server " + realm);
    auto reply = BERTH_TRY_CTX(parse_token_reply(r->body), "token server " + realm);
    tokens_.put(key, reply.token, reply.expires_in);
    return reply;
  }
}

}  // namespace detail
}  // namespace berth::registry
