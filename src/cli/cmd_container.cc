// ps, logs, stop, restart, kill, rm, pause, unpause, wait, rename, top, diff.
#include <fmt/format.h>
#include <unistd.h>

#include "api/types/time.h"
#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/container_rows.h"
#include "cli/format.h"
#include "cli/tabwriter.h"
#include "cli/units.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;
using api::client::Query;

std::string path_of(const std::string& name) { return "/containers/" + http::url_encode(name); }

Result<int> run_ps(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  std::string format = f.get_string("format");
  bool quiet = f.get_bool("quiet");
  bool size = f.get_bool("size");
  std::string def = size ? kPsSizeTable : kPsTable;
  if (quiet) {
    def = "{{.ID}}";
    if (format == "table") format = "table {{.ID}}";
  }
  if (quiet && format.empty()) size = false;
  long long last = f.get_int("last");
  if (f.get_bool("latest") && last == -1) last = 1;
  Query q;
  if (f.get_bool("all")) q.emplace_back("all", "1");
  if (last > 0) q.emplace_back("limit", std::to_string(last));
  if (!filters.empty()) q.emplace_back("filters", filters);
  auto fmtr =
      BERTH_TRY(ListFormatter::create(format, def, ps_headers(), "*formatter.ContainerContext"));
  fmtr.set_exec_error_prefix("failed to execute template");
  // Only the members the columns read are asked for (berthd then writes no
  // others; dockerd ignores the parameter) and built (ps_source_keys).
  const auto fields = fmtr.fields();
  // docker asks for sizes when the template the user wrote reads .Size, or
  // every field ({{json .}}); not for the "json" keyword, nor against an
  // explicit --size=false.
  if (!quiet && !f.changed("size") && !format.empty() && format != "json" && format != "table" &&
      wants(fields, "Size"))
    size = true;
  if (size) q.emplace_back("size", "1");
  const auto keys = ps_source_keys(fields);
  if (keys)
    q.emplace_back("berth-fields", join(std::vector<std::string>(keys->begin(), keys->end()), ","));
  EngineClient* c = BERTH_TRY(ctx.client());
  auto r = BERTH_TRY(c->call("GET", "/containers/json", q));
  Json list = BERTH_TRY(keys ? parse_json_rows(r.body, "container list", *keys)
                             : parse_json(r.body, "container list"));
  std::vector<Json> rows;
  if (list.is_array())
    for (const Json& ct : list)
      rows.push_back(ps_row(ct, !f.get_bool("no-trunc"), ctx.now_unix(), fields));
  ctx.out(BERTH_TRY(fmtr.render(rows)));
  return 0;
}

Result<int> run_logs(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  Json info = BERTH_TRY(inspect_container(*c, args[0]));
  bool tty = info.contains("Config") && info["Config"].value("Tty", false);
  std::string id = info.value("Id", args[0]);
  int64_t now_ns = api::now_unix_ns();
  api::client::LogsOptions o;
  // docker's client names the option before the parse error (its events
  // command does not).
  for (const char* k : {"since", "until"}) {
    if (!f.changed(k)) continue;
    auto ts = docker_timestamp(f.get_string(k), now_ns);
    if (!ts)
      return make_error(ts.error().code, "invalid value for \"{}\": {}", k, ts.error().message);
    (std::string_view(k) == "since" ? o.since : o.until) = *ts;
  }
  o.timestamps = f.get_bool("timestamps");
  o.follow = f.get_bool("follow");
  o.tail = f.get_string("tail");
  o.details = f.get_bool("details");
  ctx.flush();
  // container_logs hands over runs of one stream (up to a received piece,
  // 64 KiB): one write(2) each. It also tells a daemon's error answer
  // (`--log-driver none`) from log bytes, so its message is printed.
  BERTH_TRY(c->container_logs(id, o, tty, [](int stream, std::string_view data) {
    return write_all(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, data);
  }));
  return 0;
}

// stop, restart, kill, rm, pause, unpause, wait: one call per name, the name
// printed on success, errors printed together at the end (exit 1), as docker.
using PerName = std::function<Result<std::string>(EngineClient&, const std::string&)>;

// missing_ok (rm -f): a name that does not exist is reported at once and
// leaves the exit status alone, as docker's rm does.
Result<int> for_each_name(Context& ctx, const std::vector<std::string>& names, const PerName& fn,
                          bool missing_ok = false) {
  EngineClient* c = BERTH_TRY(ctx.client());
  std::vector<std::string> errors;
  for (const auto& name : names) {
    auto r = fn(*c, name);
    if (!r) {
      if (r.error().code == Errc::Unavailable) return r.error();
      if (missing_ok && r.error().code == Errc::NotFound) {
        ctx.err(r.error().message + "\n");
        continue;
      }
      errors.push_back(r.error().message);
      continue;
    }
    ctx.out(*r + "\n");
    ctx.flush();
  }
  if (!errors.empty()) {
    ctx.err(join(errors, "\n") + "\n");
    return 1;
  }
  return 0;
}

Result<int> run_stop_restart(Context& ctx, const FlagSet& f, const std::vector<std::string>& args,
                             const std::string& verb) {
  Query q;
  if (f.changed("timeout")) q.emplace_back("t", std::to_string(f.get_int("timeout")));
  if (f.changed("time")) q.emplace_back("t", std::to_string(f.get_int("time")));
  if (!f.get_string("signal").empty()) q.emplace_back("signal", f.get_string("signal"));
  return for_each_name(ctx, args,
                       [&](EngineClient& c, const std::string& n) -> Result<std::string> {
                         BERTH_TRY(c.call("POST", path_of(n) + "/" + verb, q));
                         return n;
                       });
}

void stop_flags(FlagSet& f) {
  f.add_string("signal", 's', "", "Signal to send to the container");
  f.add_int("timeout", 't', 0, "Seconds to wait before killing the container");
}

Result<int> run_kill(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  Query q;
  if (!f.get_string("signal").empty()) q.emplace_back("signal", f.get_string("signal"));
  return for_each_name(ctx, args,
                       [&](EngineClient& c, const std::string& n) -> Result<std::string> {
                         BERTH_TRY(c.call("POST", path_of(n) + "/kill", q));
                         return n;
                       });
}

Result<int> run_rm(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  Query q;
  if (f.get_bool("force")) q.emplace_back("force", "1");
  if (f.get_bool("volumes")) q.emplace_back("v", "1");
  if (f.get_bool("link")) q.emplace_back("link", "1");
  return for_each_name(
      ctx, args,
      [&](EngineClient& c, const std::string& n) -> Result<std::string> {
        if (n.empty() || n == "/")
          return make_error(Errc::InvalidArgument, "Container name cannot be empty");
        BERTH_TRY(c.call("DELETE", path_of(n), q));
        return n;
      },
      f.get_bool("force"));
}

Result<int> run_simple(Context& ctx, const std::vector<std::string>& args,
                       const std::string& verb) {
  return for_each_name(ctx, args,
                       [&](EngineClient& c, const std::string& n) -> Result<std::string> {
                         BERTH_TRY(c.call("POST", path_of(n) + "/" + verb));
                         return n;
                       });
}

Result<int> run_wait(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  return for_each_name(
      ctx, args, [&](EngineClient& c, const std::string& n) -> Result<std::string> {
        // Resolve first so a missing container is an ordinary error.
        Json info = BERTH_TRY(inspect_container(c, n));
        auto w = BERTH_TRY(PendingWait::start(ctx, info.value("Id", n), "not-running"));
        return std::to_string(BERTH_TRY(w.result()));
      });
}

Result<int> run_rename(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  std::string old_name(trim(args[0])), new_name(trim(args[1]));
  if (old_name.empty() || new_name.empty())
    return make_error(Errc::InvalidArgument, "Error: Neither old nor new names may be empty");
  EngineClient* c = BERTH_TRY(ctx.client());
  auto r = c->call("POST", path_of(old_name) + "/rename", {{"name", new_name}});
  if (!r) {
    if (r.error().code == Errc::Unavailable) return r.error();
    ctx.err(r.error().message + "\n");
    return make_error(Errc::Internal, "Error: failed to rename container named {}", old_name);
  }
  return 0;
}

Result<int> run_top(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  Query q;
  if (args.size() > 1) {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    q.emplace_back("ps_args", join(rest, " "));
  }
  auto r = BERTH_TRY(c->call("GET", path_of(args[0]) + "/top", q));
  Json j = BERTH_TRY(parse_json(r.body, "container top response"));
  std::string text;
  auto row = [](const Json& a) {
    std::vector<std::string> cells;
    if (a.is_array())
      for (const Json& x : a) cells.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    return join(cells, "\t") + "\n";
  };
  if (j.contains("Titles")) text += row(j["Titles"]);
  if (j.contains("Processes") && j["Processes"].is_array())
    for (const Json& p : j["Processes"]) text += row(p);
  TabwriterOptions o;
  o.minwidth = 20;
  o.padding = 3;
  ctx.out(tabwrite(text, o));
  return 0;
}

Result<int> run_diff(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  auto r = BERTH_TRY(c->call("GET", path_of(args[0]) + "/changes"));
  Json j = BERTH_TRY(parse_json(r.body, "container changes response"));
  std::string out;
  if (j.is_array())
    for (const Json& ch : j) {
      int kind = ch.value("Kind", 0);
      const char* k = kind == 1 ? "A" : kind == 2 ? "D" : "C";
      out += fmt::format("{} {}\n", k, ch.value("Path", ""));
    }
  ctx.out(out);
  return 0;
}

}  // namespace

void add_container_commands(std::vector<Command>& cmds) {
  cmds.push_back(
      {"container ls",
       {"ps", "container list", "container ps"},
       "[OPTIONS]",
       "List containers",
       0,
       0,
       [](FlagSet& f) {
         f.add_bool("all", 'a', "Show all containers (default shows just running)");
         f.add_list("filter", 'f', "Filter output based on conditions provided", "filter");
         f.add_string("format", 0, "",
                      "Format output using a custom template:\n'table':            Print "
                      "output in table format with column headers (default)\n'table "
                      "TEMPLATE':   Print output in table format using the given Go "
                      "template\n'json':             Print in JSON format\n'TEMPLATE':  "
                      "       Print output using the given Go template");
         f.add_int("last", 'n', -1, "Show n last created containers (includes all states)");
         f.add_bool("latest", 'l', "Show the latest created container (includes all states)");
         f.add_bool("no-trunc", 0, "Don't truncate output");
         f.add_bool("quiet", 'q', "Only display container IDs");
         f.add_bool("size", 's', "Display total file sizes");
       },
       run_ps});
  cmds.push_back({"container logs",
                  {"logs"},
                  "[OPTIONS] CONTAINER",
                  "Fetch the logs of a container",
                  1,
                  1,
                  [](FlagSet& f) {
                    f.add_bool("details", 0, "Show extra details provided to logs");
                    f.add_bool("follow", 'f', "Follow log output");
                    f.add_string("since", 0, "",
                                 "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
                                 "relative (e.g. \"42m\" for 42 minutes)");
                    f.add_string("tail", 'n', "all",
                                 "Number of lines to show from the end of the logs");
                    f.add_bool("timestamps", 't', "Show timestamps");
                    f.add_string("until", 0, "",
                                 "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
                                 "relative (e.g. \"42m\" for 42 minutes)");
                  },
                  run_logs});
  cmds.push_back({"container stop",
                  {"stop"},
                  "[OPTIONS] CONTAINER [CONTAINER...]",
                  "Stop one or more running containers",
                  1,
                  -1,
                  stop_flags,
                  [](Context& ctx, const FlagSet& f, const std::vector<std::string>& a) {
                    return run_stop_restart(ctx, f, a, "stop");
                  }});
  cmds.push_back({"container restart",
                  {"restart"},
                  "[OPTIONS] CONTAINER [CONTAINER...]",
                  "Restart one or more containers",
                  1,
                  -1,
                  stop_flags,
                  [](Context& ctx, const FlagSet& f, const std::vector<std::string>& a) {
                    return run_stop_restart(ctx, f, a, "restart");
                  }});
  cmds.push_back(
      {"container kill",
       {"kill"},
       "[OPTIONS] CONTAINER [CONTAINER...]",
       "Kill one or more running containers",
       1,
       -1,
       [](FlagSet& f) { f.add_string("signal", 's', "", "Signal to send to the container"); },
       run_kill});
  cmds.push_back(
      {"container rm",
       {"rm", "container remove"},
       "[OPTIONS] CONTAINER [CONTAINER...]",
       "Remove one or more containers",
       1,
       -1,
       [](FlagSet& f) {
         f.add_bool("force", 'f', "Force the removal of a running container (uses SIGKILL)");
         f.add_bool("link", 'l', "Remove the specified link");
         f.add_bool("volumes", 'v', "Remove anonymous volumes associated with the container");
       },
       run_rm});
  cmds.push_back({"container pause",
                  {"pause"},
                  "CONTAINER [CONTAINER...]",
                  "Pause all processes within one or more containers",
                  1,
                  -1,
                  [](FlagSet&) {},
                  [](Context& ctx, const FlagSet&, const std::vector<std::string>& a) {
                    return run_simple(ctx, a, "pause");
                  }});
  cmds.push_back({"container unpause",
                  {"unpause"},
                  "CONTAINER [CONTAINER...]",
                  "Unpause all processes within one or more containers",
                  1,
                  -1,
                  [](FlagSet&) {},
                  [](Context& ctx, const FlagSet&, const std::vector<std::string>& a) {
                    return run_simple(ctx, a, "unpause");
                  }});
  cmds.push_back({"container wait",
                  {"wait"},
                  "CONTAINER [CONTAINER...]",
                  "Block until one or more containers stop, then print their exit codes",
                  1,
                  -1,
                  [](FlagSet&) {},
                  run_wait});
  cmds.push_back({"container rename",
                  {"rename"},
                  "CONTAINER NEW_NAME",
                  "Rename a container",
                  2,
                  2,
                  [](FlagSet&) {},
                  run_rename});
  cmds.push_back({"container top",
                  {"top"},
                  "CONTAINER [ps OPTIONS]",
                  "Display the running processes of a container",
                  1,
                  -1,
                  [](FlagSet&) {},
                  run_top});
  cmds.push_back({"container diff",
                  {"diff"},
                  "CONTAINER",
                  "Inspect changes to files or directories on a container's filesystem",
                  1,
                  1,
                  [](FlagSet&) {},
                  run_diff});
}

}  // namespace berth::cli
