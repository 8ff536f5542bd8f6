// registry/search.cc — search (Hub's v1 search, or catalog + filter) and login.
#include <algorithm>

#include "base/json.h"
#include "base/strings.h"
#include "registry/session.h"

namespace berth::registry::detail {
namespace {

constexpr int kMaxCatalogPages = 1000;

std::string next_link_of(const Response& r) {
  for (auto [it, end] = r.headers.equal_range("link"); it != end; ++it) {
    const std::string& v = it->second;
    size_t lt = v.find('<');
    size_t gt = v.find('>');
    if (lt == std::string::npos || gt == std::string::npos || gt < lt) continue;
    if (v.find("next", gt) == std::string::npos) continue;
    return v.substr(lt + 1, gt - lt - 1);
  }
  return {};
}

Result<std::vector<SearchResult>> parse_hub_search(const std::string& body, int limit) {
  auto j = BERTH_TRY(parse_json(body, "search response"));
  std::vector<SearchResult> out;
  auto it = j.is_object() ? j.find("results") : j.end();
  if (!j.is_object() || it == j.end() || !it->is_array())
    return make_error(Errc::Io, "search response has no results array");
  for (const auto& e : *it) {
    if (!e.is_object()) continue;
    SearchResult s;
    auto str = [&](const char* k) {
      auto f = e.find(k);
      return f != e.end() && f->is_string() ? f->get<std::string>() : std::string();
    };
    auto flag = [&](const char* k) {
      auto f = e.find(k);
      return f != e.end() && f->is_boolean() && f->get<bool>();
    };
    s.name = str("name");
    if (s.name.empty()) s.name = str("repo_name");
    s.description = str("description");
    if (s.description.empty()) s.description = str("short_description");
    if (auto f = e.find("star_count"); f != e.end() && f->is_number_integer())
      s.star_count = f->get<int64_t>();
    s.is_official = flag("is_official");
    s.is_automated = flag("is_automated");
    out.push_back(std::move(s));
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

}  // namespace

Result<std::vector<SearchResult>> ClientImpl::search(const std::string& registry_domain,
                                                     const std::string& term, int limit,
                                                     const Credentials& cred) {
  auto o = options();
  if (registry_domain == oci::kDockerHubDomain || registry_domain == "index.docker.io") {
    std::string base = o->hub_index_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    Call c;
    c.base = base;
    c.path = "/v1/search?q=" + url_escape(term) + "&n=" + std::to_string(limit > 0 ? limit : 25);
    c.cred = &cred;
    auto r = BERTH_TRY(send(c));
    if (r.status != 200) return http_error(r, "GET " + base + c.path);
    return parse_hub_search(r.body, limit);
  }
  // Other registries: the catalog (paginated), filtered by substring.
  std::vector<SearchResult> out;
  std::string base = origin_url(*o, registry_domain);
  std::string url = base + "/v2/_catalog?n=1000";
  for (int page = 0; page < kMaxCatalogPages && !url.empty(); ++page) {
    Call c;
    c.base = base;
    c.path = url;
    c.scopes = {"registry:catalog:*"};
    c.cred = &cred;
    auto r = BERTH_TRY(send(c));
    if (r.status == 401 || r.status == 403)
      return make_error(Errc::PermissionDenied, "unauthorized: listing the catalog of {}: {}",
                        registry_domain, registry_error_text(r.body));
    if (r.status != 200) return http_error(r, "GET " + url);
    auto j = BERTH_TRY_CTX(parse_json(r.body, "catalog"), "GET " + url);
    auto repos = j.is_object() ? j.find("repositories") : j.end();
    if (j.is_object() && repos != j.end() && repos->is_array()) {
      for (const auto& v : *repos) {
        if (!v.is_string()) continue;
        std::string name = v.get<std::string>();
        if (name.find(term) == std::string::npos) continue;
        out.push_back(SearchResult{registry_domain + "/" + name, "", 0, false, false});
        if (limit > 0 && static_cast<int>(out.size()) >= limit) return out;
      }
    }
    std::string next = next_link_of(r);
    url = next.empty() ? std::string() : BERTH_TRY(resolve_url(url, next));
  }
  return out;
}

Result<std::string> ClientImpl::login(const std::string& registry_domain, const Credentials& cred) {
  auto o = options();
  std::string base =
      origin_url(*o, registry_domain == "index.docker.io" ? std::string(oci::kDockerHubDomain)
                                                          : registry_domain);
  Call c;
  c.base = base;
  c.path = "/v2/";
  c.cred = &cred;
  c.retries = o->retries;
  // First without any authorization, to read the challenge.
  Request probe = base_request();
  probe.url = base + "/v2/";
  auto r = BERTH_TRY(perform(probe));
  if (r.status == 200) return std::string();  // open registry: nothing to verify
  if (r.status != 401) return http_error(r, "GET " + base + "/v2/");
  std::string identity;
  auto chs = parse_challenges(r.header("www-authenticate"));
  for (const auto& ch : chs) {
    if (ch.scheme != "bearer" || ch.param("realm").empty()) continue;
    // The token server checks the password; ask for an offline (refresh) token.
    auto t = BERTH_TRY(fetch_token(ch, {}, cred, true, false));
    identity = t.refresh_token;
    break;
  }
  r = BERTH_TRY(send(c));
  if (r.status == 200) return identity;
  if (r.status == 401 || r.status == 403)
    return make_error(Errc::PermissionDenied, "unauthorized: incorrect username or password");
  return http_error(r, "GET " + base + "/v2/");
}

}  // namespace berth::registry::detail
