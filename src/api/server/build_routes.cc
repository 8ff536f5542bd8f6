// POST /build: docker's classic builder (engine/builder.h). The body is the
// context tar; the answer is docker's JSON-lines stream ({"stream": text},
// pull progress, {"aux":{"ID":..}}, an error line), which starts lazily, so
// bad parameters and a missing Dockerfile are still plain 400/404 answers.
#include "api/server/container_map.h"
#include "api/server/context.h"
#include "api/server/stream.h"
#include "api/types/auth.h"
#include "api/types/container_config.h"
#include "api/types/progress.h"
#include "base/ascii.h"
#include "base/strings.h"

namespace berth::api::server {
namespace {

// X-Registry-Config: base64url JSON {"<registry>": AuthConfig, ...}; keys
// are what clients write ("https://index.docker.io/v1/", "localhost:5000"),
// kept by host ("docker.io" for Docker Hub).
Result<std::map<std::string, engine::Credentials>> registry_config(const Ctx& c) {
  std::map<std::string, engine::Credentials> out;
  auto h = c.req.header("X-Registry-Config");
  if (!h || trim(*h).empty()) return out;
  auto raw = BERTH_TRY_CTX(base64_decode_lenient(trim(*h)), "invalid X-Registry-Config header");
  Json j = BERTH_TRY_CTX(parse_json(raw, "X-Registry-Config"), "invalid X-Registry-Config header");
  if (j.is_null()) return out;
  if (!j.is_object())
    return make_error(Errc::InvalidArgument, "invalid X-Registry-Config header: not a JSON object");
  for (const auto& [key, val] : j.items()) {
    auto a = BERTH_TRY(decode_auth_config_json(dump_json(val), "X-Registry-Config " + key));
    std::string host = key;
    if (auto p = host.find("://"); p != std::string::npos) host = host.substr(p + 3);
    host = host.substr(0, host.find('/'));
    if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
    out[host] = engine::Credentials{a.username, a.password, a.identity_token};
  }
  return out;
}

// A JSON object of strings from a query parameter (buildargs, labels);
// `nullable` lets values be null (buildargs: "not given").
Result<Json> json_object_param(const Ctx& c, std::string_view key, bool nullable) {
  std::string v = str_param(c, key);
  if (v.empty()) return Json::object();
  auto j = parse_json(v, key);
  if (!j || !(j->is_object() || j->is_null()))
    return make_error(Errc::InvalidArgument, "invalid value for parameter {}: {}", key, v);
  if (j->is_null()) return Json::object();
  for (const auto& [k, val] : j->items())
    if (!val.is_string() && !(nullable && val.is_null()))
      return make_error(Errc::InvalidArgument, "invalid value for parameter {}: {} is not a string",
                        key, k);
  return *j;
}

// The RUN containers' limits: docker's CLI sends memory, memswap, cpushares,
// cpuperiod, cpuquota, cpusetcpus, cpusetmems, cgroupparent, shmsize and
// ulimits (a JSON list of units.Ulimit; "null" when none). They are checked
// here with the create body's rules, before any step runs, so a bad value
// leaves no intermediate image behind (dockerd finds it at the first RUN).
Result<void> step_limits(const Ctx& c, engine::BuildOptions& o) {
  Json r = Json::object();
  static constexpr std::pair<std::string_view, std::string_view> kInts[] = {
      {"memory", "Memory"},
      {"memswap", "MemorySwap"},
      {"cpushares", "CpuShares"},
      {"cpuperiod", "CpuPeriod"},
      {"cpuquota", "CpuQuota"}};
  for (const auto& [param, field] : kInts)
    if (auto v = BERTH_TRY(int_param(c, param))) r[std::string(field)] = *v;
  static constexpr std::pair<std::string_view, std::string_view> kStrings[] = {
      {"cpusetcpus", "CpusetCpus"}, {"cpusetmems", "CpusetMems"}, {"cgroupparent", "CgroupParent"}};
  for (const auto& [param, field] : kStrings)
    if (std::string v = str_param(c, param); !v.empty()) r[std::string(field)] = v;
  if (std::string v = str_param(c, "ulimits"); !v.empty()) {
    auto j = parse_json(v, "ulimits");
    if (!j || !(j->is_array() || j->is_null()))
      return make_error(Errc::InvalidArgument, "invalid value for parameter ulimits: {}", v);
    r["Ulimits"] = *j;
  }
  auto u = decode_update_body(dump_json(r), usable_cpus());
  if (!u) return u.error();
  o.resources = to_engine(u->resources);
  if (auto v = BERTH_TRY(int_param(c, "shmsize"))) {
    if (*v < 0) return make_error(Errc::InvalidArgument, "SHM size can not be less than 0");
    o.shm_size = *v;
  }
  if (std::string v = str_param(c, "isolation"); !v.empty() && !iequals(v, "default"))
    return make_error(Errc::InvalidArgument, "Unsupported isolation: \"{}\"", v);
  return ok();
}

Result<engine::BuildOptions> build_options(const Ctx& c) {
  engine::BuildOptions o;
  if (!str_param(c, "remote").empty())
    return make_error(Errc::InvalidArgument,
                      "remote build contexts are not supported by berthd; send the context as the "
                      "request body");
  if (std::string v = str_param(c, "version"); !v.empty() && v != "1")
    return make_error(
        Errc::InvalidArgument,
        "builder version \"{}\" (BuildKit) is not supported by berthd; use the classic "
        "builder (version 1)",
        v);
  if (std::string v = str_param(c, "dockerfile"); !v.empty()) o.dockerfile = v;
  o.tags = all_params(c, "t");
  for (const auto& t : o.tags)
    if (t.empty()) return make_error(Errc::InvalidArgument, "invalid reference format");
  Json args = BERTH_TRY(json_object_param(c, "buildargs", true));
  for (const auto& [k, v] : args.items())
    o.build_args[k] = v.is_null() ? std::nullopt : std::optional<std::string>(v.get<std::string>());
  Json labels = BERTH_TRY(json_object_param(c, "labels", false));
  for (const auto& [k, v] : labels.items()) o.labels[k] = v.get<std::string>();
  o.no_cache = BERTH_TRY(bool_param(c, "nocache"));
  o.pull = BERTH_TRY(bool_param(c, "pull"));
  o.quiet = BERTH_TRY(bool_param(c, "q"));
  o.remove = BERTH_TRY(bool_param(c, "rm", true));
  o.force_remove = BERTH_TRY(bool_param(c, "forcerm"));
  o.target = str_param(c, "target");
  o.network_mode = str_param(c, "networkmode");
  if (o.network_mode == "default") o.network_mode.clear();
  o.platform = str_param(c, "platform");
  // One parameter per host (docker's CLI), or a comma-separated list.
  for (const auto& v : all_params(c, "extrahosts"))
    for (const auto& h : split(v, ',', true)) o.extra_hosts.push_back(h);
  BERTH_TRY(step_limits(c, o));
  // cachefrom: a JSON list of image names (docker's CLI sends "null" or
  // "[]" when there are none).
  if (std::string v = str_param(c, "cachefrom"); !v.empty()) {
    auto j = parse_json(v, "cachefrom");
    bool strings = j && (j->is_null() || j->is_array());
    if (strings && j->is_array())
      for (const auto& e : *j) strings = strings && e.is_string() && !e.get<std::string>().empty();
    if (!strings)
      return make_error(Errc::InvalidArgument, "invalid value for parameter cachefrom: {}", v);
    if (j->is_array())
      for (const auto& e : *j) o.cache_from.push_back(e.get<std::string>());
  }
  o.auth = BERTH_TRY(registry_config(c));
  return o;
}

}  // namespace

void build(Ctx& c) {
  auto* containers = containers_or_501(c);
  if (!containers) return;
  auto o = build_options(c);
  if (!o) return send_error(c, o.error());
  JsonStream out(c);
  o->cancel = out.cancel_flag();
  engine::BuildSink sink;
  sink.stream = [&](std::string_view text) {
    [[maybe_unused]] auto r = out.write(encode_stream_line(text));
  };
  sink.progress = [&](const engine::ProgressEvent& p) {
    std::string line = !p.aux.is_null()
                           ? dump_json(Json{{"aux", p.aux}}) + "\n"
                           : encode_progress_line({p.id, p.status, p.current, p.total});
    [[maybe_unused]] auto r = out.write(line);
  };
  auto body = [&c]() { return c.req.read_body(); };
  auto r = c.engine.build(body, *o, sink);
  if (!r) return out.finish(r.error());
  out.finish(ok());
}

}  // namespace berth::api::server
