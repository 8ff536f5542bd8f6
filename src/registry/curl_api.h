// registry/curl_api.h — libcurl's entry points, loaded on first use.
//
// berthd talks to registries only on pull, push, search and login, yet libcurl
// and the libraries it needs (TLS, GSSAPI, LDAP, SSH, RTMP, HTTP/2) cost an
// idle daemon about 3.4 MiB resident when linked. So libcurl is not linked:
// curl_api() dlopens libcurl.so.4 the first time a registry request is made
// and keeps it for the life of the process. Constants and types still come
// from <curl/curl.h>.
//
// curl_api() is thread-safe; the first successful call also runs
// curl_global_init. A missing library or entry point is a FailedPrecondition
// error naming it, returned again by every later call.
// Internal to registry/.
#pragma once

#include <curl/curl.h>

#include "base/result.h"

namespace berth::registry::detail {

struct CurlApi {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_share_init) share_init;
  decltype(&::curl_share_setopt) share_setopt;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_url) url;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
  decltype(&::curl_free) free;
};

Result<const CurlApi*> curl_api();

}  // namespace berth::registry::detail
