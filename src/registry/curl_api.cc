// registry/curl_api.cc — loads libcurl.so.4 and resolves its entry points.
#include "registry/curl_api.h"

#include "base/shared_library.h"

namespace berth::registry::detail {
namespace {

Result<CurlApi> load() {
  CurlApi a{};
  // The soname Debian's libcurl4 (OpenSSL) and libcurl3-gnutls builds share.
  auto lib = BERTH_TRY(SharedLibrary::open("libcurl.so.4", "registry access"));
  lib.bind("curl_global_init", a.global_init);
  lib.bind("curl_share_init", a.share_init);
  lib.bind("curl_share_setopt", a.share_setopt);
  lib.bind("curl_easy_init", a.easy_init);
  lib.bind("curl_easy_cleanup", a.easy_cleanup);
  lib.bind("curl_easy_setopt", a.easy_setopt);
  lib.bind("curl_easy_perform", a.easy_perform);
  lib.bind("curl_easy_getinfo", a.easy_getinfo);
  lib.bind("curl_easy_strerror", a.easy_strerror);
  lib.bind("curl_slist_append", a.slist_append);
  lib.bind("curl_slist_free_all", a.slist_free_all);
  lib.bind("curl_url", a.url);
  lib.bind("curl_url_cleanup", a.url_cleanup);
  lib.bind("curl_url_set", a.url_set);
  lib.bind("curl_url_get", a.url_get);
  lib.bind("curl_free", a.free);
  // CURLOPT_PROTOCOLS_STR is the newest option perform() sets.
  BERTH_TRY(lib.finish("libcurl 7.85 or newer is needed"));
  // curl_global_init is not thread-safe; curl_api()'s static runs this once.
  CURLcode rc = a.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    return make_error(Errc::FailedPrecondition, "curl_global_init failed: {}", a.easy_strerror(rc));
  return a;
}

}  // namespace

Result<const CurlApi*> curl_api() {
  static const Result<CurlApi> api = load();
  if (!api) return api.error();
  return &*api;
}

}  // namespace berth::registry::detail
