// inspect (containers first, as docker), container inspect, commit, export,
// update, container prune, system prune.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>

#include "base/size.h"
#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/format.h"
#include "cli/inspect_print.h"
#include "cli/run_flags.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;
using api::client::Query;

std::string path_of(const std::string& name) { return "/containers/" + http::url_encode(name); }

Result<std::string> inspect_raw(EngineClient& c, const std::string& name, const std::string& type,
                                bool size) {
  auto container = [&]() -> Result<std::string> {
    Query q;
    if (size) q.emplace_back("size", "1");
    auto r = BERTH_TRY(c.call("GET", path_of(name) + "/json", q));
    return r.body;
  };
  auto get = [&](const std::string& path) -> Result<std::string> {
    auto r = BERTH_TRY(c.call("GET", path + http::url_encode(name)));
    return r.body;
  };
  auto network = [&] { return get("/networks/"); };
  auto volume = [&] { return get("/volumes/"); };
  if (type == "container") return container();
  if (type == "image") return c.inspect_image_raw(name);
  if (type == "network") return network();
  if (type == "volume") return volume();
  // Without --type, docker tries the kinds in this order.
  auto r = container();
  if (r || r.error().code != Errc::NotFound) return r;
  r = c.inspect_image_raw(name);
  if (r || r.error().code != Errc::NotFound) return r;
  r = network();
  if (r || r.error().code != Errc::NotFound) return r;
  r = volume();
  if (r || r.error().code != Errc::NotFound) return r;
  return Error{Errc::NotFound, 0, "Error: No such object: " + name};
}

Result<int> run_inspect(Context& ctx, const FlagSet& f, const std::vector<std::string>& names,
                        std::string type) {
  EngineClient* c = BERTH_TRY(ctx.client());
  return print_inspect(ctx, names, f.get_string("format"), [&](const std::string& name) {
    return inspect_raw(*c, name, type, f.get_bool("size"));
  });
}

Result<int> run_commit(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  Query q{{"container", args[0]}};
  if (args.size() > 1) {
    auto ref = oci::Reference::parse(args[1], true);
    if (!ref) return ref.error();
    if (ref->digest())
      return make_error(Errc::InvalidArgument, "refusing to create a tag with a digest reference");
    q.emplace_back("repo", ref->familiar_name());
    q.emplace_back("tag", ref->tag().value_or("latest"));
  }
  if (!f.get_string("message").empty()) q.emplace_back("comment", f.get_string("message"));
  if (!f.get_string("author").empty()) q.emplace_back("author", f.get_string("author"));
  q.emplace_back("pause", f.get_bool("pause") ? "1" : "0");
  for (const auto& ch : f.get_list("change")) q.emplace_back("changes", ch);
  EngineClient* c = BERTH_TRY(ctx.client());
  auto r = BERTH_TRY(c->call("POST", "/commit", q, "{}"));
  Json j = BERTH_TRY(parse_json(r.body, "commit response"));
  ctx.out(j.value("Id", "") + "\n");
  return 0;
}

Result<int> run_export(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::string output = f.get_string("output");
  if (output.empty() && ctx.out_is_terminal())
    return make_error(Errc::InvalidArgument,
                      "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  EngineClient* c = BERTH_TRY(ctx.client());
  int fd = STDOUT_FILENO;
  std::string tmp;
  if (!output.empty()) {
    std::string dir =
        output.find('/') == std::string::npos ? "." : output.substr(0, output.rfind('/'));
    if (dir.empty()) dir = "/";
    struct stat ds {};
    if (::stat(dir.c_str(), &ds) != 0)
      return make_error(Errc::NotFound,
                        "failed to export container: invalid output path: stat {}: no such file or "
                        "directory",
                        dir);
    tmp = output + ".berth-tmp-" + std::to_string(::getpid());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return sys_error("failed to export container: open " + output);
  }
  ctx.flush();
  auto r = c->cli_request("GET", path_of(args[0]) + "/export", {}, {}, {},
                          [&](std::string_view d) { return write_all(fd, d); });
  if (!output.empty()) {
    bool good = r && ::fsync(fd) == 0;
    ::close(fd);
    if (!good || ::rename(tmp.c_str(), output.c_str()) != 0) {
      ::unlink(tmp.c_str());
      if (!r) return r.error();
      return sys_error("failed to export container: " + output);
    }
  }
  if (!r) return r.error();
  return 0;
}

void update_flags(FlagSet& f) {
  f.add_int("blkio-weight", 0, 0,
            "Block IO (relative weight), between 10 and 1000, or 0 to disable");
  f.add_int("cpu-period", 0, 0, "Limit CPU CFS (Completely Fair Scheduler) period");
  f.add_int("cpu-quota", 0, 0, "Limit CPU CFS (Completely Fair Scheduler) quota");
  f.add_int("cpu-rt-period", 0, 0, "Limit the CPU real-time period in microseconds");
  f.add_int("cpu-rt-runtime", 0, 0, "Limit the CPU real-time runtime in microseconds");
  f.add_int("cpu-shares", 'c', 0, "CPU shares (relative weight)");
  f.add_string("cpus", 0, "", "Number of CPUs", "decimal");
  f.add_string("cpuset-cpus", 0, "", "CPUs in which to allow execution (0-3, 0,1)");
  f.add_string("cpuset-mems", 0, "", "MEMs in which to allow execution (0-3, 0,1)");
  f.add_string("memory", 'm', "", "Memory limit", "bytes");
  f.add_string("memory-reservation", 0, "", "Memory soft limit", "bytes");
  f.add_string("memory-swap", 0, "",
               "Swap limit equal to memory plus swap: -1 to enable unlimited swap", "bytes");
  f.add_int("pids-limit", 0, 0, "Tune container pids limit (set -1 for unlimited)");
  f.add_string("restart", 0, "", "Restart policy to apply when a container exits");
}

Result<int> run_update(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  static const char* kAll[] = {
      "blkio-weight",       "cpu-period",  "cpu-quota",   "cpu-rt-period", "cpu-rt-runtime",
      "cpu-shares",         "cpus",        "cpuset-cpus", "cpuset-mems",   "memory",
      "memory-reservation", "memory-swap", "pids-limit",  "restart"};
  bool any = false;
  for (const char* n : kAll) any = any || f.changed(n);
  if (!any)
    return make_error(Errc::InvalidArgument,
                      "you must provide one or more flags when using this command");
  Json body = Json::object();
  auto mem = [&](const char* name, const char* label, const char* key) -> Result<void> {
    if (!f.changed(name)) return ok();
    std::string v = f.get_string(name);
    if (std::string(name) == "memory-swap" && v == "-1") {
      body[key] = -1;
      return ok();
    }
    auto b = parse_ram_in_bytes(v);
    if (!b) return flag_value_error(label, v, b.error().message);
    body[key] = *b;
    return ok();
  };
  BERTH_TRY(mem("memory", "-m, --memory", "Memory"));
  BERTH_TRY(mem("memory-reservation", "--memory-reservation", "MemoryReservation"));
  BERTH_TRY(mem("memory-swap", "--memory-swap", "MemorySwap"));
  if (f.changed("cpus")) {
    auto n = parse_nano_cpus(f.get_string("cpus"));
    if (!n) return flag_value_error("--cpus", f.get_string("cpus"), n.error().message);
    body["NanoCpus"] = *n;
  }
  if (f.changed("blkio-weight")) body["BlkioWeight"] = f.get_int("blkio-weight");
  if (f.changed("cpu-period")) body["CpuPeriod"] = f.get_int("cpu-period");
  if (f.changed("cpu-quota")) body["CpuQuota"] = f.get_int("cpu-quota");
  if (f.changed("cpu-rt-period")) body["CpuRealtimePeriod"] = f.get_int("cpu-rt-period");
  if (f.changed("cpu-rt-runtime")) body["CpuRealtimeRuntime"] = f.get_int("cpu-rt-runtime");
  if (f.changed("cpu-shares")) body["CpuShares"] = f.get_int("cpu-shares");
  if (f.changed("cpuset-cpus")) body["CpusetCpus"] = f.get_string("cpuset-cpus");
  if (f.changed("cpuset-mems")) body["CpusetMems"] = f.get_string("cpuset-mems");
  if (f.changed("pids-limit")) body["PidsLimit"] = f.get_int("pids-limit");
  if (f.changed("restart")) {
    std::string p = f.get_string("restart");
    auto colon = p.find(':');
    Json rp = {{"Name", p.substr(0, colon)}, {"MaximumRetryCount", 0}};
    if (colon != std::string::npos) {
      auto n = parse_int(p.substr(colon + 1));
      if (!n)
        return make_error(Errc::InvalidArgument,
                          "invalid restart policy format: maximum retry count must be an integer");
      rp["MaximumRetryCount"] = *n;
    }
    body["RestartPolicy"] = rp;
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  std::vector<std::string> errors, warnings;
  for (const auto& name : args) {
    auto r = c->call("POST", path_of(name) + "/update", {}, dump_json(body));
    if (!r) {
      if (r.error().code == Errc::Unavailable) return r.error();
      errors.push_back(r.error().message);
      continue;
    }
    auto j = parse_json(r->body, "update response");
    if (j && j->is_object() && j->contains("Warnings") && (*j)["Warnings"].is_array())
      for (const Json& w : (*j)["Warnings"])
        if (w.is_string()) warnings.push_back(w.get<std::string>());
    ctx.out(name + "\n");
  }
  for (auto& w : warnings) ctx.err(w + "\n");
  if (!errors.empty()) {
    ctx.err(join(errors, "\n") + "\n");
    return 1;
  }
  return 0;
}

// POST /<what>/prune; "" + the reclaimed bytes, or the printed section.
struct PruneOut {
  std::string text;
  int64_t reclaimed = 0;
};

Result<PruneOut> prune_containers(EngineClient& c, const std::string& filters) {
  Query q;
  if (!filters.empty()) q.emplace_back("filters", filters);
  auto r = BERTH_TRY(c.call("POST", "/containers/prune", q));
  Json j = BERTH_TRY(parse_json(r.body, "container prune response"));
  PruneOut out;
  if (j.contains("ContainersDeleted") && j["ContainersDeleted"].is_array() &&
      !j["ContainersDeleted"].empty()) {
    out.text = "Deleted Containers:\n";
    for (const Json& id : j["ContainersDeleted"])
      if (id.is_string()) out.text += id.get<std::string>() + "\n";
    out.text += "\n";
  }
  if (j.contains("SpaceReclaimed") && j["SpaceReclaimed"].is_number())
    out.reclaimed = j["SpaceReclaimed"].get<int64_t>();
  return out;
}

Result<int> run_container_prune(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  if (!f.get_bool("force") &&
      !confirm(ctx,
               "WARNING! This will remove all stopped containers.\nAre you sure you want to "
               "continue?"))
    return 0;
  EngineClient* c = BERTH_TRY(ctx.client());
  auto p = BERTH_TRY(prune_containers(*c, filters));
  ctx.out(p.text + "Total reclaimed space: " + human_size(static_cast<double>(p.reclaimed)) + "\n");
  return 0;
}

Result<int> run_system_prune(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  bool all = f.get_bool("all"), volumes = f.get_bool("volumes");
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  std::string warning =
      "WARNING! This will remove:\n  - all stopped containers\n"
      "  - all networks not used by at least one container\n";
  if (volumes) warning += "  - all anonymous volumes not used by at least one container\n";
  warning += all ? "  - all images without at least one container associated to them\n"
                 : "  - all dangling images\n";
  warning += all ? "  - all build cache\n" : "  - unused build cache\n";
  if (!f.get_bool("force") && !confirm(ctx, warning + "\nAre you sure you want to continue?"))
    return 0;
  EngineClient* c = BERTH_TRY(ctx.client());
  std::string out;
  int64_t total = 0;
  auto p = BERTH_TRY(prune_containers(*c, filters));
  out += p.text;
  total += p.reclaimed;
  // Networks, volumes and the build cache: daemons without them (berthd
  // before the networking issue) answer 404; nothing to prune then.
  auto optional_prune = [&](const std::string& path, const std::string& key,
                            const std::string& title, Query q) -> Result<void> {
    if (!filters.empty()) q.emplace_back("filters", filters);
    auto r = c->call("POST", path, q);
    if (!r) {
      if (r.error().code == Errc::NotFound || r.error().code == Errc::NotImplemented) return ok();
      return r.error();
    }
    Json j = BERTH_TRY(parse_json(r->body, "prune response"));
    if (j.contains(key) && j[key].is_array() && !j[key].empty()) {
      out += title + "\n";
      for (const Json& x : j[key])
        if (x.is_string()) out += x.get<std::string>() + "\n";
      out += "\n";
    }
    if (j.contains("SpaceReclaimed") && j["SpaceReclaimed"].is_number())
      total += j["SpaceReclaimed"].get<int64_t>();
    return ok();
  };
  BERTH_TRY(optional_prune("/networks/prune", "NetworksDeleted", "Deleted Networks:", {}));
  if (volumes)
    BERTH_TRY(optional_prune("/volumes/prune", "VolumesDeleted", "Deleted Volumes:", {}));
  {
    Query q;
    Json fj = filters.empty() ? Json::object() : Json::parse(filters, nullptr, false);
    fj["dangling"][all ? "false" : "true"] = true;
    q.emplace_back("filters", dump_json(fj));
    auto r = BERTH_TRY(c->call("POST", "/images/prune", q));
    Json j = BERTH_TRY(parse_json(r.body, "image prune response"));
    if (j.contains("ImagesDeleted") && j["ImagesDeleted"].is_array() &&
        !j["ImagesDeleted"].empty()) {
      out += "Deleted Images:\n";
      for (const Json& d : j["ImagesDeleted"]) {
        if (d.contains("Untagged") && d["Untagged"].is_string() &&
            !d["Untagged"].get<std::string>().empty())
          out += "untagged: " + d["Untagged"].get<std::string>() + "\n";
        else if (d.contains("Deleted") && d["Deleted"].is_string())
          out += "deleted: " + d["Deleted"].get<std::string>() + "\n";
      }
      out += "\n";
    }
    if (j.contains("SpaceReclaimed") && j["SpaceReclaimed"].is_number())
      total += j["SpaceReclaimed"].get<int64_t>();
  }
  {
    Query q;
    if (all) q.emplace_back("all", "1");
    BERTH_TRY(optional_prune("/build/prune", "CachesDeleted", "Deleted build cache objects:", q));
  }
  out += "Total reclaimed space: " + human_size(static_cast<double>(total)) + "\n";
  ctx.out(out);
  return 0;
}

void inspect_flags(FlagSet& f, bool with_type) {
  f.add_string("format", 'f', "", "Format output using a custom template");
  f.add_bool(
      "size", 's',
      with_type ? "Display total file sizes if the type is container" : "Display total file sizes");
  if (with_type) f.add_string("type", 0, "", "Only inspect objects of the given type");
}

}  // namespace

void add_container_more_commands(std::vector<Command>& cmds) {
  cmds.push_back(
      {"inspect",
       {},
       "[OPTIONS] NAME|ID [NAME|ID...]",
       "Return low-level information on Docker objects",
       1,
       -1,
       [](FlagSet& f) { inspect_flags(f, true); },
       [](Context& ctx, const FlagSet& f, const std::vector<std::string>& a) -> Result<int> {
         std::string type = f.get_string("type");
         static const std::set<std::string> kOurs = {"container", "image", "network", "volume"};
         static const std::set<std::string> kSwarm = {"config", "node",    "plugin",
                                                      "secret", "service", "task"};
         if (!type.empty() && !kOurs.count(type)) {
           // docker's kinds that need swarm or plugins, which berth does not have.
           if (kSwarm.count(type))
             return make_error(Errc::InvalidArgument,
                               "berth has no {} objects (swarm and plugins are not supported)",
                               type);
           return make_error(Errc::InvalidArgument,
                             "unknown type: \"{}\": must be one of \"config\", \"container\", "
                             "\"image\", \"network\", \"node\", \"plugin\", \"secret\", "
                             "\"service\", \"task\", \"volume\"",
                             type);
         }
         return run_inspect(ctx, f, a, type);
       }});
  cmds.push_back({"container inspect",
                  {},
                  "[OPTIONS] CONTAINER [CONTAINER...]",
                  "Display detailed information on one or more containers",
                  1,
                  -1,
                  [](FlagSet& f) { inspect_flags(f, false); },
                  [](Context& ctx, const FlagSet& f, const std::vector<std::string>& a) {
                    return run_inspect(ctx, f, a, "container");
                  }});
  cmds.push_back({"container commit",
                  {"commit"},
                  "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                  "Create a new image from a container's changes",
                  1,
                  2,
                  [](FlagSet& f) {
                    f.add_string("author", 'a', "",
                                 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
                    f.add_list("change", 'c', "Apply Dockerfile instruction to the created image");
                    f.add_string("message", 'm', "", "Commit message");
                    f.add_bool("pause", 'p', "Pause container during commit", true);
                  },
                  run_commit});
  cmds.push_back(
      {"container export",
       {"export"},
       "[OPTIONS] CONTAINER",
       "Export a container's filesystem as a tar archive",
       1,
       1,
       [](FlagSet& f) { f.add_string("output", 'o', "", "Write to a file, instead of STDOUT"); },
       run_export});
  cmds.push_back({"container update",
                  {"update"},
                  "[OPTIONS] CONTAINER [CONTAINER...]",
                  "Update configuration of one or more containers",
                  1,
                  -1,
                  update_flags,
                  run_update});
  cmds.push_back({"container prune",
                  {},
                  "[OPTIONS]",
                  "Remove all stopped containers",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_list("filter", 0, "Provide filter values (e.g. \"until=<timestamp>\")",
                               "filter");
                    f.add_bool("force", 'f', "Do not prompt for confirmation");
                  },
                  run_container_prune});
  cmds.push_back({"system prune",
                  {},
                  "[OPTIONS]",
                  "Remove unused data",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_bool("all", 'a', "Remove all unused images not just dangling ones");
                    f.add_list("filter", 0, "Provide filter values (e.g. \"label=<key>=<value>\")",
                               "filter");
                    f.add_bool("force", 'f', "Do not prompt for confirmation");
                    f.add_bool("volumes", 0, "Prune anonymous volumes");
                  },
                  run_system_prune});
}

}  // namespace berth::cli
