#include "api/client/engine_client.h"

#include <fmt/format.h>

#include <cstdlib>

#include "base/strings.h"

namespace berth::api::client {

std::string resolve_host(const std::string& explicit_host) {
  if (!explicit_host.empty()) return explicit_host;
  if (const char* env = std::getenv("DOCKER_HOST"); env && *env) return env;
  return kDefaultHost;
}

int compare_api_versions(std::string_view a, std::string_view b) {
  auto pa = split(a, '.'), pb = split(b, '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    long long x = i < pa.size() ? parse_int(pa[i]).value_or(0) : 0;
    long long y = i < pb.size() ? parse_int(pb[i]).value_or(0) : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string encode_query(const Query& q) {
  std::string s;
  for (auto& [k, v] : q) {
    s += s.empty() ? '?' : '&';
    s += http::url_encode(k) + "=" + http::url_encode(v);
  }
  return s;
}

Error daemon_error(int status, std::string_view body) {
  Errc code = Errc::Internal;
  switch (status) {
    case 400:
      code = Errc::InvalidArgument;
      break;
    case 401:
    case 403:
      code = Errc::PermissionDenied;
      break;
    case 404:
      code = Errc::NotFound;
      break;
    case 409:
      code = Errc::Conflict;
      break;
    case 501:
      code = Errc::NotImplemented;
      break;
    case 503:
      code = Errc::Unavailable;
      break;
    default:
      break;
  }
  std::string msg = decode_error_message(body);
  if (msg.empty()) msg = fmt::format("HTTP status {}", status);
  return Error{code, 0, "Error response from daemon: " + msg};
}

EngineClient::EngineClient(std::unique_ptr<http::Client> http, Options opts)
    : http_(std::move(http)), opts_(std::move(opts)) {
  opts_.host = resolve_host(opts_.host);
  if (opts_.api_version.empty())
    if (const char* env = std::getenv("DOCKER_API_VERSION"); env && *env) opts_.api_version = env;
  version_ = opts_.api_version;
}

Result<Ping> EngineClient::ping() {
  http::ClientRequest req;
  req.method = "GET";
  req.target = "/_ping";
  auto resp = BERTH_TRY(http_->request(std::move(req)));
  Ping p;
  auto hdr = [&](const char* name) {
    auto it = resp.headers.find(name);
    return it == resp.headers.end() ? std::string() : it->second;
  };
  p.api_version = hdr("Api-Version");
  p.os_type = hdr("Ostype");
  p.server = hdr("Server");
  if (resp.status >= 400 && p.api_version.empty()) return daemon_error(resp.status, resp.body);
  return p;
}

Result<std::string> EngineClient::api_version() {
  if (!version_.empty()) return version_;
  Ping p = BERTH_TRY(ping());
  std::string v = p.api_version.empty() ? "1.24" : p.api_version;
  if (compare_api_versions(v, kMaxApiVersion) > 0) v = kMaxApiVersion;
  downgraded_ = compare_api_versions(v, kMaxApiVersion) < 0;
  version_ = v;
  return version_;
}

Result<std::string> EngineClient::target(const std::string& path, const Query& query) {
  std::string v = BERTH_TRY(api_version());
  return "/v" + v + path + encode_query(query);
}

Result<http::ClientResponse> EngineClient::call(const std::string& method, const std::string& path,
                                                const Query& query, std::string body,
                                                http::Headers headers) {
  // The first call of a process skips GET /_ping: it goes out with the
  // newest version this client speaks, and only a daemon that answers
  // "client version ... is too new" (docker's 400 for that) costs the
  // negotiation and one retry. Bodies are kept for the retry only when small.
  const bool optimistic = version_.empty() && body.size() <= 64 * 1024;
  if (optimistic) version_ = kMaxApiVersion;
  if (!body.empty() && headers.find("Content-Type") == headers.end())
    headers.emplace("Content-Type", "application/json");
  http::ClientRequest req;
  req.method = method;
  req.target = BERTH_TRY(target(path, query));
  req.headers = optimistic ? headers : std::move(headers);
  req.body = optimistic ? body : std::move(body);
  auto resp = BERTH_TRY(http_->request(std::move(req)));
  if (optimistic && resp.status == 400 &&
      decode_error_message(resp.body).find("is too new") != std::string::npos) {
    version_.clear();
    http::ClientRequest again;
    again.method = method;
    again.target = BERTH_TRY(target(path, query));
    again.headers = std::move(headers);
    again.body = std::move(body);
    resp = BERTH_TRY(http_->request(std::move(again)));
  }
  if (resp.status >= 400) return daemon_error(resp.status, resp.body);
  return resp;
}

Result<OrderedJson> EngineClient::version() {
  auto r = BERTH_TRY(call("GET", "/version"));
  return parse_ordered_json(r.body, "version response");
}

Result<OrderedJson> EngineClient::info() {
  auto r = BERTH_TRY(call("GET", "/info"));
  return parse_ordered_json(r.body, "info response");
}

Result<std::vector<ImageSummary>> EngineClient::list_images(const ListImagesOptions& o) {
  Query q;
  if (o.all) q.emplace_back("all", "1");
  if (o.digests) q.emplace_back("digests", "1");
  if (!o.filters_json.empty()) q.emplace_back("filters", o.filters_json);
  auto r = BERTH_TRY(call("GET", "/images/json", q));
  return decode_image_list(r.body);
}

Result<std::string> EngineClient::inspect_image_raw(const std::string& name) {
  auto r = BERTH_TRY(call("GET", "/images/" + http::url_encode(name) + "/json"));
  return r.body;
}

Result<std::string> EngineClient::inspect_container_raw(const std::string& name) {
  auto r = BERTH_TRY(call("GET", "/containers/" + http::url_encode(name) + "/json"));
  return r.body;
}

Result<std::vector<HistoryItem>> EngineClient::history(const std::string& name) {
  auto r = BERTH_TRY(call("GET", "/images/" + http::url_encode(name) + "/history"));
  return decode_history(r.body);
}

Result<void> EngineClient::tag(const std::string& source, const std::string& repo,
                               const std::string& tag) {
  Query q{{"repo", repo}};
  if (!tag.empty()) q.emplace_back("tag", tag);
  BERTH_TRY(call("POST", "/images/" + http::url_encode(source) + "/tag", q));
  return ok();
}

Result<std::vector<DeleteItem>> EngineClient::remove_image(const std::string& name, bool force,
                                                           bool noprune) {
  Query q;
  if (force) q.emplace_back("force", "1");
  if (noprune) q.emplace_back("noprune", "1");
  auto r = BERTH_TRY(call("DELETE", "/images/" + http::url_encode(name), q));
  Json j = BERTH_TRY(parse_json(r.body, "image delete response"));
  return decode_delete_items(j);
}

Result<PruneReport> EngineClient::prune_images(const std::string& filters_json) {
  Query q;
  if (!filters_json.empty()) q.emplace_back("filters", filters_json);
  auto r = BERTH_TRY(call("POST", "/images/prune", q));
  return decode_prune_report(r.body);
}

Result<std::vector<SearchResult>> EngineClient::search(const std::string& term, int limit,
                                                       const std::string& filters_json,
                                                       const std::string& registry_auth) {
  Query q{{"term", term}};
  if (limit > 0) q.emplace_back("limit", std::to_string(limit));
  if (!filters_json.empty()) q.emplace_back("filters", filters_json);
  http::Headers h;
  if (!registry_auth.empty()) h.emplace("X-Registry-Auth", registry_auth);
  auto r = BERTH_TRY(call("GET", "/images/search", q, {}, h));
  return decode_search(r.body);
}

Result<std::vector<std::string>> EngineClient::list_tags(const std::string& repo,
                                                         const std::string& registry_auth) {
  Query q{{"term", repo}, {"list-tags", "1"}};
  http::Headers h;
  if (!registry_auth.empty()) h.emplace("X-Registry-Auth", registry_auth);
  auto r = BERTH_TRY(call("GET", "/images/search", q, {}, h));
  return decode_tag_list(r.body);
}

Result<AuthResponse> EngineClient::login(const std::string& username, const std::string& password,
                                         const std::string& server_address) {
  Json body = {{"username", username}, {"password", password}, {"serveraddress", server_address}};
  auto r = BERTH_TRY(call("POST", "/auth", {}, dump_json(body)));
  return decode_auth_response(r.body);
}

Result<DiskUsage> EngineClient::disk_usage() {
  auto r = BERTH_TRY(call("GET", "/system/df"));
  return decode_disk_usage(r.body);
}

// --- streams ---------------------------------------------------------------

Result<void> JsonLineDecoder::line(std::string_view l,
                                   const std::function<Result<void>(const Json&)>& on_json) {
  std::string_view t = trim(l);
  if (t.empty()) return ok();
  Json j = BERTH_TRY(parse_json(t, "JSON stream"));
  return on_json(j);
}

Result<void> JsonLineDecoder::feed(std::string_view data,
                                   const std::function<Result<void>(const Json&)>& on_json) {
  buf_.append(data);
  size_t start = 0;
  while (true) {
    size_t nl = buf_.find('\n', start);
    if (nl == std::string::npos) break;
    auto r = line(std::string_view(buf_).substr(start, nl - start), on_json);
    if (!r) {
      buf_.erase(0, nl + 1);
      return r;
    }
    start = nl + 1;
  }
  buf_.erase(0, start);
  return ok();
}

Result<void> JsonLineDecoder::finish(const std::function<Result<void>(const Json&)>& on_json) {
  std::string rest = std::move(buf_);
  buf_.clear();
  return line(rest, on_json);
}

Result<void> EngineClient::stream_json(http::ClientRequest req,
                                       const std::function<Result<void>(const Json&)>& on_json) {
  JsonLineDecoder dec;
  std::string raw;  // kept (bounded) for an error answer
  bool error_answer = false;
  std::optional<Error> callback_error;
  auto handle = [&](const Json& j) -> Result<void> {
    // An error answer ({"message": ...}) may reach on_chunk before the
    // status is known: keep it out of the callbacks.
    if (j.is_object() && j.size() == 1 && j.contains("message")) {
      error_answer = true;
      return ok();
    }
    auto r = on_json(j);
    if (!r) callback_error = r.error();
    return r;
  };
  req.on_chunk = [&](std::string_view chunk) -> Result<void> {
    if (raw.size() < 65536) raw.append(chunk.substr(0, 65536 - raw.size()));
    return dec.feed(chunk, handle);
  };
  auto resp = http_->request(std::move(req));
  if (callback_error) return *callback_error;
  if (!resp) return resp.error();
  std::string body = resp->body.empty() ? raw : resp->body;
  if (resp->status >= 400) return daemon_error(resp->status, body);
  if (!resp->body.empty()) BERTH_TRY(dec.feed(resp->body, handle));
  BERTH_TRY(dec.finish(handle));
  if (callback_error) return *callback_error;
  if (error_answer) return daemon_error(500, raw);
  return ok();
}

Result<void> EngineClient::stream_messages(http::ClientRequest req, const MessageFn& on_message) {
  return stream_json(std::move(req), [&](const Json& j) -> Result<void> {
    JsonMessage m = decode_json_message(j);
    BERTH_TRY(on_message(m));
    if (m.error) return Error{Errc::Internal, 0, *m.error};
    return ok();
  });
}

Result<void> EngineClient::pull(const PullOptions& o, const MessageFn& on_message) {
  Query q{{"fromImage", o.from_image}};
  if (!o.tag.empty()) q.emplace_back("tag", o.tag);
  if (!o.platform.empty()) q.emplace_back("platform", o.platform);
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target("/images/create", q));
  req.headers.emplace("X-Registry-Auth", o.registry_auth.empty() ? "e30=" : o.registry_auth);
  return stream_messages(std::move(req), on_message);
}

Result<void> EngineClient::push(const std::string& name, const std::string& tag,
                                const std::string& registry_auth, const MessageFn& on_message) {
  Query q;
  if (!tag.empty()) q.emplace_back("tag", tag);
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target("/images/" + http::url_encode(name) + "/push", q));
  req.headers.emplace("X-Registry-Auth", registry_auth.empty() ? "e30=" : registry_auth);
  return stream_messages(std::move(req), on_message);
}

Result<void> EngineClient::save(const std::vector<std::string>& names, const ByteSink& sink) {
  Query q;
  for (auto& n : names) q.emplace_back("names", n);
  http::ClientRequest req;
  req.method = "GET";
  req.target = BERTH_TRY(target("/images/get", q));
  BERTH_TRY(tar_download(std::move(req), sink));
  return ok();
}

Result<void> EngineClient::load(const ByteSource& source, bool quiet, const MessageFn& on_message) {
  Query q;
  if (quiet) q.emplace_back("quiet", "1");
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target("/images/load", q));
  req.headers.emplace("Content-Type", "application/x-tar");
  req.body_source = source;
  return stream_messages(std::move(req), on_message);
}

Result<void> EngineClient::import(const ImportOptions& o, const MessageFn& on_message) {
  Query q{{"fromSrc", o.source_url.empty() ? "-" : o.source_url}};
  if (!o.repo.empty()) q.emplace_back("repo", o.repo);
  if (!o.tag.empty()) q.emplace_back("tag", o.tag);
  if (!o.message.empty()) q.emplace_back("message", o.message);
  for (auto& c : o.changes) q.emplace_back("changes", c);
  if (!o.platform.empty()) q.emplace_back("platform", o.platform);
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target("/images/create", q));
  if (o.source_url.empty()) {
    req.headers.emplace("Content-Type", "application/x-tar");
    req.body_source = o.source;
  }
  return stream_messages(std::move(req), on_message);
}

Result<void> EngineClient::build(const BuildOptions& o, const MessageFn& on_message) {
  Query q;
  for (const auto& t : o.tags) q.emplace_back("t", t);
  if (!o.dockerfile.empty()) q.emplace_back("dockerfile", o.dockerfile);
  Json args = Json::object();
  for (const auto& [k, v] : o.build_args) args[k] = v;
  q.emplace_back("buildargs", dump_json(args));
  Json labels = Json::object();
  for (const auto& [k, v] : o.labels) labels[k] = v;
  q.emplace_back("labels", dump_json(labels));
  if (o.quiet) q.emplace_back("q", "1");
  if (o.no_cache) q.emplace_back("nocache", "1");
  if (o.pull) q.emplace_back("pull", "1");
  q.emplace_back("rm", o.remove ? "1" : "0");
  if (o.force_remove) q.emplace_back("forcerm", "1");
  if (!o.target.empty()) q.emplace_back("target", o.target);
  if (!o.network_mode.empty()) q.emplace_back("networkmode", o.network_mode);
  for (const auto& h : o.extra_hosts) q.emplace_back("extrahosts", h);
  if (!o.platform.empty()) q.emplace_back("platform", o.platform);
  q.emplace_back("cpusetcpus", o.cpuset_cpus);
  q.emplace_back("cpusetmems", o.cpuset_mems);
  q.emplace_back("cpushares", std::to_string(o.cpu_shares));
  q.emplace_back("cpuquota", std::to_string(o.cpu_quota));
  q.emplace_back("cpuperiod", std::to_string(o.cpu_period));
  q.emplace_back("memory", std::to_string(o.memory));
  q.emplace_back("memswap", std::to_string(o.memory_swap));
  q.emplace_back("shmsize", std::to_string(o.shm_size));
  q.emplace_back("cgroupparent", o.cgroup_parent);
  q.emplace_back("ulimits", dump_json(o.ulimits));
  if (!o.cache_from.empty()) q.emplace_back("cachefrom", dump_json(Json(o.cache_from)));
  if (!o.isolation.empty()) q.emplace_back("isolation", o.isolation);
  // "1" is the classic builder; dockerd would otherwise pick BuildKit.
  q.emplace_back("version", "1");
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target("/build", q));
  req.headers.emplace("Content-Type", "application/x-tar");
  req.headers.emplace("X-Registry-Config", o.registry_config.empty() ? "e30=" : o.registry_config);
  req.body_source = o.context;
  return stream_messages(std::move(req), on_message);
}

Result<void> EngineClient::events(const std::string& since, const std::string& until,
                                  const std::string& filters_json,
                                  const std::function<Result<void>(const Event&)>& on_event) {
  Query q;
  if (!since.empty()) q.emplace_back("since", since);
  if (!until.empty()) q.emplace_back("until", until);
  if (!filters_json.empty()) q.emplace_back("filters", filters_json);
  http::ClientRequest req;
  req.method = "GET";
  req.target = BERTH_TRY(target("/events", q));
  return stream_json(std::move(req), [&](const Json& j) { return on_event(decode_event(j)); });
}

}  // namespace berth::api::client
