// version, info, system df, events.
#include <fmt/format.h>

#include <cctype>

#include "base/strings.h"
#include "cli/container_rows.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/image_rows.h"
#include "cli/tabwriter.h"
#include "cli/units.h"
#include "cli/version.h"
#include "cli/volume_rows.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

// The layout of docker's `version` (its default template, written anew for
// berth's data), aligned by a tabwriter with minwidth 20 and padding 1.
constexpr const char* kVersionTemplate = R"({{with .Client -}}
Client:
 Version:	{{.Version}}
 API version:	{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Git commit:	{{.GitCommit}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}
{{- with .Server}}

Server:{{if .Platform.Name}} {{.Platform.Name}}{{end}}
 {{- range $c := .Components}}
 {{$c.Name}}:
  {{- if eq $c.Name "Engine"}}
  Version:	{{$c.Version}}
  API version:	{{index $c.Details "ApiVersion"}} (minimum version {{index $c.Details "MinAPIVersion"}})
  {{- if index $c.Details "GoVersion"}}
  Go version:	{{index $c.Details "GoVersion"}}
  {{- end}}
  Git commit:	{{index $c.Details "GitCommit"}}
  Built:	{{index $c.Details "BuildTime"}}
  OS/Arch:	{{index $c.Details "Os"}}/{{index $c.Details "Arch"}}
  Experimental:	{{index $c.Details "Experimental"}}
  {{- else}}
  Version:	{{$c.Version}}
  {{- range $k, $v := $c.Details}}
  {{$k}}:	{{$v}}
  {{- end}}
  {{- end}}
 {{- end}}
{{- end}}
)";

std::string arch_name() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

// docker's version and info templates read clientVersion's Go fields;
// APIVersion is "ApiVersion" in its JSON, as in the daemon's types.Version.
// `type` names the root's Go type: an unknown field there is an error.
TemplateExecOptions version_template_options(const char* type) {
  TemplateExecOptions o;
  o.go_field_names = {{"APIVersion", "ApiVersion"}};
  o.strict_type = type;
  return o;
}

// docker's clientVersion, in its member order. berth is not written in Go:
// GoVersion says so, as the daemon's does.
OrderedJson client_version(const std::string& api_version) {
  return {{"Version", kBerthVersion},
          {"ApiVersion", api_version},
          {"DefaultAPIVersion", api::client::kMaxApiVersion},
          {"GitCommit", kBerthGitCommit},
          {"GoVersion", "n/a"},
          {"Os", "linux"},
          {"Arch", arch_name()},
          {"Context", "default"}};
}

Result<int> run_version(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::optional<Error> server_error;
  auto c = ctx.client();
  Result<OrderedJson> sv = c ? (*c)->version() : Result<OrderedJson>(c.error());
  // docker's versionInfo: Client, then Server (null when the daemon did not answer).
  OrderedJson data = {{"Client", client_version(api::client::kMaxApiVersion)}, {"Server", nullptr}};
  if (sv && sv->is_object()) {
    data["Client"]["ApiVersion"] = (*c)->api_version().value_or(api::client::kMaxApiVersion);
    OrderedJson s = std::move(*sv);
    // Daemons without "Components" (old ones): build the Engine entry.
    if (!s.contains("Components") || !s["Components"].is_array() || s["Components"].empty()) {
      OrderedJson details = {{"ApiVersion", s.value("ApiVersion", "")},
                             {"Arch", s.value("Arch", "")},
                             {"BuildTime", s.value("BuildTime", "")},
                             {"Experimental", s.value("Experimental", false) ? "true" : "false"},
                             {"GitCommit", s.value("GitCommit", "")},
                             {"GoVersion", s.value("GoVersion", "")},
                             {"MinAPIVersion", s.value("MinAPIVersion", "")},
                             {"Os", s.value("Os", "")}};
      s["Components"] = OrderedJson::array({OrderedJson{
          {"Name", "Engine"}, {"Version", s.value("Version", "")}, {"Details", details}}});
    }
    if (!s.contains("Platform") || !s["Platform"].is_object()) s["Platform"] = {{"Name", ""}};
    data["Server"] = std::move(s);
  } else if (sv) {
    server_error = make_error(Errc::Internal, "version response: not a JSON object");
  } else {
    server_error = sv.error();
  }
  const TemplateExecOptions opts = version_template_options("system.versionInfo");
  std::string format = f.get_string("format");
  if (format == "json") format = "{{json .}}";
  std::string text;
  if (format.empty()) {
    auto t = BERTH_TRY(Template::parse(kVersionTemplate));
    text = BERTH_TRY(t.execute(data, opts));
    TabwriterOptions o;
    o.minwidth = 20;
    o.padding = 1;
    text = tabwrite(text, o);
  } else {
    auto t = BERTH_TRY(parse_user_template(preformat(format, nullptr)));
    auto r = t.execute(data, opts);
    if (!r) return r.error();  // Go's text, "template: ..."
    text = *r + "\n";
  }
  ctx.out(text);
  if (server_error) return *server_error;
  return 0;
}

void kv(std::string& out, const OrderedJson& j, const char* label, const char* key,
        int indent = 1) {
  if (!j.contains(key) || j[key].is_null()) return;
  if (j[key].is_string() && j[key].get_ref<const std::string&>().empty()) return;
  out += std::string(indent, ' ') + label + ": " + go_print(j[key]) + "\n";
}

Result<int> run_info(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  auto c = ctx.client();
  Result<OrderedJson> info = c ? (*c)->info() : Result<OrderedJson>(c.error());
  std::string format = f.get_string("format");
  if (!format.empty()) {
    if (!info) return info.error();
    if (format == "json") format = "{{json .}}";
    auto t = BERTH_TRY(parse_user_template(preformat(format, nullptr)));
    // docker's info: the daemon's system.Info, then the client's own part.
    OrderedJson data = std::move(*info);
    if (data.is_object() && !data.contains("ClientInfo")) {
      OrderedJson client = {{"Debug", ctx.global().debug}};
      const OrderedJson version = client_version((*c)->known_api_version());
      for (const auto& [k, v] : version.items()) client[k] = v;
      client.erase("ApiVersion");  // docker's info leaves it out
      client["Plugins"] = OrderedJson::array();
      client["Warnings"] = nullptr;
      data["ClientInfo"] = std::move(client);
    }
    auto r = t.execute(data, version_template_options("system.dockerInfo"));
    if (!r) return r.error();  // Go's text, "template: ..."
    ctx.out(*r + "\n");
    return 0;
  }
  std::string out = fmt::format("Client:\n Version:    {}\n Context:    default\n Debug Mode: {}\n",
                                kBerthVersion, ctx.global().debug ? "true" : "false");
  ctx.out(out);
  if (!info) {
    ctx.out("\nServer:\n");
    return info.error();
  }
  const OrderedJson& j = *info;
  out = "\nServer:\n";
  kv(out, j, "Containers", "Containers");
  kv(out, j, "Running", "ContainersRunning", 2);
  kv(out, j, "Paused", "ContainersPaused", 2);
  kv(out, j, "Stopped", "ContainersStopped", 2);
  kv(out, j, "Images", "Images");
  kv(out, j, "Server Version", "ServerVersion");
  kv(out, j, "Storage Driver", "Driver");
  if (j.contains("DriverStatus") && j["DriverStatus"].is_array())
    for (const OrderedJson& p : j["DriverStatus"])
      if (p.is_array() && p.size() == 2)
        out += "  " + go_print(p[0]) + ": " + go_print(p[1]) + "\n";
  kv(out, j, "Logging Driver", "LoggingDriver");
  kv(out, j, "Cgroup Driver", "CgroupDriver");
  kv(out, j, "Cgroup Version", "CgroupVersion");
  if (auto p = j.find("Plugins"); p != j.end() && p->is_object()) {
    out += " Plugins:\n";
    for (const char* kind : {"Volume", "Network", "Authorization", "Log"})
      if (auto l = p->find(kind); l != p->end() && l->is_array() && !l->empty()) {
        std::vector<std::string> names;
        for (const OrderedJson& n : *l) names.push_back(go_print(n));
        out += fmt::format("  {}: {}\n", kind, join(names, " "));
      }
  }
  if (auto sw = j.find("Swarm"); sw != j.end() && sw->is_object())
    out += " Swarm: " + sw->value("LocalNodeState", "inactive") + "\n";
  if (j.contains("Runtimes") && j["Runtimes"].is_object() && !j["Runtimes"].empty()) {
    out += " Runtimes:";
    for (auto it = j["Runtimes"].begin(); it != j["Runtimes"].end(); ++it) out += " " + it.key();
    out += "\n";
  }
  kv(out, j, "Default Runtime", "DefaultRuntime");
  // "name=seccomp,profile=builtin" prints as docker does: the name, then
  // each other option as "Key: value" under it.
  if (auto so = j.find("SecurityOptions"); so != j.end() && so->is_array() && !so->empty()) {
    out += " Security Options:\n";
    for (const OrderedJson& o : *so) {
      if (!o.is_string()) continue;
      std::string name, rest;
      for (const std::string& part : split(o.get<std::string>(), ',')) {
        auto eq = part.find('=');
        std::string k = part.substr(0, eq), v = eq == std::string::npos ? "" : part.substr(eq + 1);
        if (k == "name") {
          name = v;
        } else if (!k.empty()) {
          k[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(k[0])));
          rest += fmt::format("   {}: {}\n", k, v);
        }
      }
      out += "  " + name + "\n" + rest;
    }
  }
  kv(out, j, "Kernel Version", "KernelVersion");
  kv(out, j, "Operating System", "OperatingSystem");
  kv(out, j, "OSType", "OSType");
  kv(out, j, "Architecture", "Architecture");
  kv(out, j, "CPUs", "NCPU");
  if (j.contains("MemTotal") && j["MemTotal"].is_number())
    out += " Total Memory: " + bytes_size(j["MemTotal"].get<double>()) + "\n";
  kv(out, j, "Name", "Name");
  kv(out, j, "ID", "ID");
  kv(out, j, "Docker Root Dir", "DockerRootDir");
  kv(out, j, "Debug Mode", "Debug");
  kv(out, j, "HTTP Proxy", "HttpProxy");
  kv(out, j, "HTTPS Proxy", "HttpsProxy");
  kv(out, j, "No Proxy", "NoProxy");
  kv(out, j, "Experimental", "ExperimentalBuild");
  if (j.contains("Labels") && j["Labels"].is_array() && !j["Labels"].empty()) {
    out += " Labels:\n";
    for (const OrderedJson& l : j["Labels"]) out += "  " + go_print(l) + "\n";
  }
  if (j.contains("RegistryConfig") && j["RegistryConfig"].is_object()) {
    const OrderedJson& rc = j["RegistryConfig"];
    std::vector<std::string> insecure;
    if (rc.contains("InsecureRegistryCIDRs") && rc["InsecureRegistryCIDRs"].is_array())
      for (const OrderedJson& x : rc["InsecureRegistryCIDRs"]) insecure.push_back(go_print(x));
    if (rc.contains("IndexConfigs") && rc["IndexConfigs"].is_object())
      for (auto it = rc["IndexConfigs"].begin(); it != rc["IndexConfigs"].end(); ++it)
        if (it->is_object() && it->value("Secure", true) == false) insecure.push_back(it.key());
    if (!insecure.empty()) {
      out += " Insecure Registries:\n";
      for (auto& x : insecure) out += "  " + x + "\n";
    }
    if (rc.contains("Mirrors") && rc["Mirrors"].is_array() && !rc["Mirrors"].empty()) {
      out += " Registry Mirrors:\n";
      for (const OrderedJson& m : rc["Mirrors"]) out += "  " + go_print(m) + "\n";
    }
  }
  kv(out, j, "Live Restore Enabled", "LiveRestoreEnabled");
  ctx.out(out);
  if (j.contains("Warnings") && j["Warnings"].is_array()) {
    std::string w;
    for (const OrderedJson& x : j["Warnings"]) w += go_print(x) + "\n";
    if (!w.empty()) ctx.err(w);
  }
  return 0;
}

// `system df -v`: docker's four tables, or with --format json one object of
// the four lists of rows (ids and commands untruncated, as docker's JSON).
// A container's size is its writable layer alone (docker drops the virtual
// size here).
Result<int> df_verbose(Context& ctx, const api::client::DiskUsage& du, const std::string& format) {
  bool json = format == "json" || format == "{{json .}}";
  if (!format.empty() && format != "table" && !json)
    return make_error(Errc::InvalidArgument, "--format is not supported with --verbose");
  int64_t now = ctx.now_unix();
  // One row per image, named by its first tag, without a digest (docker's df).
  std::vector<api::client::ImageSummary> firsts = du.images;
  for (auto& i : firsts) {
    if (i.repo_tags.size() > 1) i.repo_tags.resize(1);
    i.repo_digests.clear();
  }
  std::vector<Json> images = image_rows(firsts, false, !json, now);
  for (auto& r : images) r["Digest"] = "";
  std::vector<Json> containers, volumes;
  for (Json ct : du.containers) {
    ct.erase("SizeRootFs");
    containers.push_back(ps_row(ct, !json, now));
  }
  for (const Json& v : du.volumes) volumes.push_back(volume_row(v));
  if (json) {
    // docker's struct order, not sorted keys.
    auto list = [](const std::vector<Json>& rows) { return go_json(Json(rows), true); };
    ctx.out("{\"Images\":" + list(images) + ",\"Containers\":" + list(containers) +
            ",\"Volumes\":" + list(volumes) + ",\"BuildCache\":[]}\n");
    return 0;
  }
  auto table = [](const char* tmpl, const Json& headers, const char* type,
                  const std::vector<Json>& rows) -> Result<std::string> {
    auto fmtr = BERTH_TRY(ListFormatter::create(tmpl, "", headers, type));
    return fmtr.render(rows);
  };
  std::string out = "Images space usage:\n\n";
  out +=
      BERTH_TRY(table("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
                      "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                      image_headers(), "*formatter.imageContext", images));
  out += "\nContainers space usage:\n\n";
  out +=
      BERTH_TRY(table("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
                      "{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
                      ps_headers(), "*formatter.ContainerContext", containers));
  out += "\nLocal Volumes space usage:\n\n";
  out += BERTH_TRY(table("table {{.Name}}\t{{.Links}}\t{{.Size}}", volume_headers(),
                         "*formatter.volumeContext", volumes));
  out += "\nBuild cache usage: 0B\n\n";
  out += tabwrite("CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n");
  ctx.out(out);
  return 0;
}

Result<int> run_df(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  EngineClient* c = BERTH_TRY(ctx.client());
  auto du = BERTH_TRY(c->disk_usage());
  std::string format = f.get_string("format");
  if (f.get_bool("verbose")) return df_verbose(ctx, du, format);
  // Images row: docker's diskUsageImagesContext.
  int64_t active = 0, used = 0;
  for (const auto& i : du.images) {
    if (i.containers > 0) {
      ++active;
      if (i.size >= 0 && i.shared_size >= 0) used += i.size - i.shared_size;
    }
  }
  int64_t total = du.layers_size;
  int64_t reclaimable = total - used;
  std::string reclaim = human_size(static_cast<double>(reclaimable));
  if (total > 0) reclaim += fmt::format(" ({}%)", reclaimable * 100 / total);
  std::vector<Json> rows;
  rows.push_back(Json{{"Type", "Images"},
                      {"TotalCount", std::to_string(du.images.size())},
                      {"Active", std::to_string(active)},
                      {"Size", human_size(static_cast<double>(total))},
                      {"Reclaimable", reclaim}});
  int64_t csize = 0, crec = 0, cactive = 0;
  for (const Json& ct : du.containers) {
    int64_t rw = ct.value("SizeRw", int64_t{0});
    csize += rw;
    if (ct.value("State", "") == "running")
      ++cactive;
    else
      crec += rw;
  }
  std::string creclaim = human_size(static_cast<double>(crec));
  if (csize > 0) creclaim += fmt::format(" ({}%)", crec * 100 / csize);
  rows.push_back(Json{{"Type", "Containers"},
                      {"TotalCount", std::to_string(du.containers.size())},
                      {"Active", std::to_string(cactive)},
                      {"Size", human_size(static_cast<double>(csize))},
                      {"Reclaimable", creclaim}});
  // docker's diskUsageVolumesContext: active = used by a container;
  // reclaimable = the size of the others.
  int64_t vsize = 0, vfree = 0, vactive = 0;
  for (const Json& v : du.volumes) {
    if (!v.contains("UsageData") || !v["UsageData"].is_object()) continue;
    int64_t sz = std::max<int64_t>(0, v["UsageData"].value("Size", int64_t{0}));
    vsize += sz;
    if (v["UsageData"].value("RefCount", int64_t{0}) > 0) {
      ++vactive;
    } else {
      vfree += sz;
    }
  }
  std::string vreclaim = human_size(static_cast<double>(vfree));
  if (vsize > 0) vreclaim += fmt::format(" ({}%)", vfree * 100 / vsize);
  rows.push_back(Json{{"Type", "Local Volumes"},
                      {"TotalCount", std::to_string(du.volumes.size())},
                      {"Active", std::to_string(vactive)},
                      {"Size", human_size(static_cast<double>(vsize))},
                      {"Reclaimable", vreclaim}});
  rows.push_back(Json{{"Type", "Build Cache"},
                      {"TotalCount", std::to_string(du.build_cache.size())},
                      {"Active", "0"},
                      {"Size", "0B"},
                      {"Reclaimable", "0B"}});
  auto fmtr = BERTH_TRY(ListFormatter::create(
      format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
      Json{{"Type", "TYPE"},
           {"TotalCount", "TOTAL"},
           {"Active", "ACTIVE"},
           {"Size", "SIZE"},
           {"Reclaimable", "RECLAIMABLE"}},
      "*formatter.diskUsageContext"));
  ctx.out(BERTH_TRY(fmtr.render(rows)));
  return 0;
}

// An event in the member order of docker's events.Message, which `{{json .}}`
// marshals in field order.
OrderedJson in_message_order(const Json& e) {
  OrderedJson o = members_in_order(
      e, {"status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"});
  if (auto it = e.find("Actor"); it != e.end())
    o["Actor"] = members_in_order(*it, {"ID", "Attributes"});
  return o;
}

Result<int> run_events(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  int64_t now_ns = ctx.now_unix() * 1000000000LL;
  std::string since = BERTH_TRY(docker_timestamp(f.get_string("since"), now_ns));
  std::string until = BERTH_TRY(docker_timestamp(f.get_string("until"), now_ns));
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  std::string format = f.get_string("format");
  std::optional<Template> tmpl;
  if (!format.empty()) {
    if (format == "json") format = "{{json .}}";
    tmpl = BERTH_TRY(parse_user_template(preformat(format, nullptr)));
  }
  // The template sees docker's events.Message by its Go field names, some of
  // which differ from the JSON's: .Status is "status", .TimeNano "timeNano".
  TemplateExecOptions opts;
  opts.go_field_names = {{"Status", "status"}, {"ID", "id"},     {"From", "from"},
                         {"Scope", "scope"},   {"Time", "time"}, {"TimeNano", "timeNano"}};
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(c->events(since, until, filters, [&](const api::client::Event& e) -> Result<void> {
    std::string line;
    if (tmpl) {
      auto r = tmpl->execute(in_message_order(e.raw), opts);
      if (!r) return r.error();  // Go's text, "template: ..."
      line = *r + "\n";
    } else {
      if (e.time_nano != 0)
        line += rfc3339_nano_fixed_local(e.time_nano) + " ";
      else if (e.time != 0)
        line += rfc3339_nano_fixed_local(e.time * 1000000000LL) + " ";
      line += e.type + " " + e.action + " " + e.actor_id;
      if (!e.attributes.empty()) {
        std::vector<std::string> attrs;
        for (auto& [k, v] : e.attributes) attrs.push_back(k + "=" + v);
        line += " (" + join(attrs, ", ") + ")";
      }
      line += "\n";
    }
    ctx.out(line);
    ctx.flush();
    return ok();
  }));
  return 0;
}

}  // namespace

void add_system_commands(std::vector<Command>& cmds) {
  cmds.push_back(
      {"version",
       {},
       "[OPTIONS]",
       "Show the berth version information",
       0,
       0,
       [](FlagSet& f) { f.add_string("format", 'f', "", "Format output using a custom template"); },
       run_version});
  cmds.push_back(
      {"system info",
       {"info"},
       "[OPTIONS]",
       "Display system-wide information",
       0,
       0,
       [](FlagSet& f) { f.add_string("format", 'f', "", "Format output using a custom template"); },
       run_info});
  cmds.push_back({"system df",
                  {},
                  "[OPTIONS]",
                  "Show docker disk usage",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_string("format", 0, "", "Format output using a custom template");
                    f.add_bool("verbose", 'v', "Show detailed information on space usage");
                  },
                  run_df});
  cmds.push_back({"system events",
                  {"events"},
                  "[OPTIONS]",
                  "Get real time events from the server",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_list("filter", 'f', "Filter output based on conditions provided",
                               "filter");
                    f.add_string("format", 0, "", "Format output using a custom template");
                    f.add_string("since", 0, "", "Show all events created since timestamp");
                    f.add_string("until", 0, "", "Stream events until this timestamp");
                  },
                  run_events});
}

}  // namespace berth::cli
