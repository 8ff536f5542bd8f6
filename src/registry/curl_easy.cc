// registry/curl_easy.cc — libcurl easy-handle RAII and the single-exchange helper.
#include "registry/curl_easy.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "base/strings.h"
#include "registry/curl_api.h"

namespace berth::registry::detail {
namespace {

// The share handle lives for the whole process (never cleaned up: requests
// may run on detached threads until exit).
struct Global {
  const CurlApi* api = nullptr;
  CURLSH* share = nullptr;
  std::mutex locks[CURL_LOCK_DATA_LAST];
};

void share_lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  static_cast<Global*>(user)->locks[data].lock();
}
void share_unlock(CURL*, curl_lock_data data, void* user) {
  static_cast<Global*>(user)->locks[data].unlock();
}

Result<Global*> global() {
  static Global* g = []() -> Global* {
    auto api = curl_api();
    if (!api) return nullptr;
    const CurlApi& a = **api;
    auto* gl = new Global;
    gl->api = *api;
    gl->share = a.share_init();
    if (gl->share) {
      a.share_setopt(gl->share, CURLSHOPT_LOCKFUNC, share_lock);
      a.share_setopt(gl->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
      a.share_setopt(gl->share, CURLSHOPT_USERDATA, gl);
      a.share_setopt(gl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
      a.share_setopt(gl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
      a.share_setopt(gl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    }
    return gl;
  }();
  if (!g) return std::move(curl_api()).error();
  return g;
}

struct EasyDeleter {
  const CurlApi* a;
  void operator()(CURL* c) const { a->easy_cleanup(c); }
};
struct SlistDeleter {
  const CurlApi* a;
  void operator()(curl_slist* l) const { a->slist_free_all(l); }
};
struct UrlDeleter {
  const CurlApi* a;
  void operator()(CURLU* u) const { a->url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

struct Transfer {
  const Request* req;
  Response* resp;
  Error sink_error;
  bool sink_failed = false;
  bool started = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (starts_with(line, "HTTP/")) {
    // A new response (after 100 Continue, or a new attempt): start over.
    t->resp->headers.clear();
    auto parts = split(trim(line), ' ', true);
    if (parts.size() >= 2) t->resp->status = parse_int(parts[1]).value_or(0);
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(trim(line.substr(0, colon)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t->resp->headers.emplace(std::move(name), std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  long st = t->resp->status;
  if (t->req->sink && st >= 200 && st < 300) {
    if (!t->started) {
      t->started = true;
      if (t->req->on_start) {
        auto s = t->req->on_start(*t->resp);
        if (!s) {
          t->sink_error = std::move(s).error();
          t->sink_failed = true;
          return 0;
        }
      }
    }
    auto r = t->req->sink(chunk);
    if (!r) {
      t->sink_error = std::move(r).error();
      t->sink_failed = true;
      return 0;  // aborts with CURLE_WRITE_ERROR
    }
    t->resp->sink_bytes += static_cast<int64_t>(chunk.size());
    return chunk.size();
  }
  size_t room = t->req->max_body - std::min(t->req->max_body, t->resp->body.size());
  if (chunk.size() > room) t->resp->body_truncated = true;
  t->resp->body.append(chunk.substr(0, room));
  return chunk.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->req->cancel && t->req->cancel->load() ? 1 : 0;
}

}  // namespace

std::string Response::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

Result<Response> perform(const Request& req) {
  Global& g = *BERTH_TRY(global());
  const CurlApi& a = *g.api;
  std::unique_ptr<CURL, EasyDeleter> easy(a.easy_init(), EasyDeleter{&a});
  if (!easy) return make_error(Errc::Internal, "curl_easy_init failed");
  CURL* c = easy.get();
  Response resp;
  Transfer t{&req, &resp, {}, false, false};
  char errbuf[CURL_ERROR_SIZE] = {0};

  std::unique_ptr<curl_slist, SlistDeleter> hdrs(nullptr, SlistDeleter{&a});
  curl_slist* list = nullptr;
  for (const auto& h : req.headers) list = a.slist_append(list, h.c_str());
  // libcurl adds "Expect: 100-continue" to large bodies; registries answer
  // uploads directly, so the extra round trip only costs time.
  if (req.has_body) list = a.slist_append(list, "Expect:");
  hdrs.reset(list);

  a.easy_setopt(c, CURLOPT_URL, req.url.c_str());
  a.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (g.share) a.easy_setopt(c, CURLOPT_SHARE, g.share);
  a.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  a.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  a.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs.get());
  a.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  a.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(req.connect_timeout.count()));
  a.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  a.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.low_speed_time.count()));
  if (!req.user_agent.empty()) a.easy_setopt(c, CURLOPT_USERAGENT, req.user_agent.c_str());
  a.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  a.easy_setopt(c, CURLOPT_HEADERDATA, &t);
  a.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  a.easy_setopt(c, CURLOPT_WRITEDATA, &t);
  a.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  a.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  a.easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  if (req.head) {
    a.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    a.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (req.has_body) {
    a.easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    a.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }

  CURLcode rc = a.easy_perform(c);
  if (t.sink_failed) return std::move(t.sink_error);
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    return make_error(Errc::Cancelled, "{} {}: cancelled", req.method, req.url);
  if (rc != CURLE_OK) {
    const char* msg = errbuf[0] ? errbuf : a.easy_strerror(rc);
    // TLS verification and malformed-URL failures do not heal with a retry.
    Errc code = Errc::Unavailable;
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        code = Errc::FailedPrecondition;
        break;
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        code = Errc::InvalidArgument;
        break;
      default:
        break;
    }
    return make_error(code, "{} \"{}\": {}", req.method, req.url, msg);
  }
  long code = 0;
  a.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  resp.status = code;
  return resp;
}

Result<std::string> resolve_url(const std::string& base, const std::string& ref) {
  const CurlApi& a = *BERTH_TRY(curl_api());
  UrlPtr u(a.url(), UrlDeleter{&a});
  if (!u) return make_error(Errc::Internal, "curl_url failed");
  if (a.url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      a.url_set(u.get(), CURLUPART_URL, ref.c_str(), 0) != CURLUE_OK)
    return make_error(Errc::InvalidArgument, "bad URL {:?} relative to {:?}", ref, base);
  char* out = nullptr;
  if (a.url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK || !out)
    return make_error(Errc::InvalidArgument, "bad URL {:?}", ref);
  std::string s(out);
  a.free(out);
  return s;
}

std::string url_authority(const std::string& url) {
  auto api = curl_api();
  if (!api) return {};
  const CurlApi& a = **api;
  UrlPtr u(a.url(), UrlDeleter{&a});
  if (!u || a.url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
  char* host = nullptr;
  char* port = nullptr;
  std::string out;
  if (a.url_get(u.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
    out = host;
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  if (a.url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port)
    out += std::string(":") + port;
  a.free(host);
  a.free(port);
  return out;
}

std::string url_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

}  // namespace berth::registry::detail
