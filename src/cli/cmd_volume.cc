// cli/cmd_volume.cc — `berth volume create|ls|inspect|rm|prune`, with
// docker's flags, tables, prompts and exit codes.
#include <iostream>

#include "api/client/engine_client.h"
#include "base/strings.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/inspect_print.h"
#include "cli/units.h"
#include "cli/volume_rows.h"

namespace berth::cli {

namespace {

using api::client::EngineClient;

constexpr const char* kVolumesTable = "table {{.Driver}}\t{{.Name}}";

// "k=v" flags (-o, --label) as a JSON object; a key without '=' maps to "".
Json kv_object(const std::vector<std::string>& items) {
  Json j = Json::object();
  for (const auto& i : items) {
    auto eq = i.find('=');
    j[i.substr(0, eq)] = eq == std::string::npos ? "" : i.substr(eq + 1);
  }
  return j;
}

bool ask(Context& ctx, const std::string& message) {
  ctx.out(message + " [y/N] ");
  ctx.flush();
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  std::string_view a = trim(answer);
  return a == "y" || a == "Y";
}

Result<int> run_create(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::string name = args.empty() ? f.get_string("name") : args[0];
  if (!args.empty() && f.changed("name") && f.get_string("name") != args[0]) {
    return make_error(Errc::InvalidArgument,
                      "conflicting options: either specify --name or provide positional arg, "
                      "not both");
  }
  Json body = {{"Name", name},
               {"Driver", f.get_string("driver")},
               {"DriverOpts", kv_object(f.get_list("opt"))},
               {"Labels", kv_object(f.get_list("label"))}};
  EngineClient* c = BERTH_TRY(ctx.client());
  Json v = BERTH_TRY(c->create_volume(body));
  ctx.out(v.value("Name", "") + "\n");
  return 0;
}

Result<int> run_ls(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  EngineClient* c = BERTH_TRY(ctx.client());
  Json list = BERTH_TRY(c->list_volumes(filters));
  std::string format = f.get_string("format");
  std::string def = kVolumesTable;
  if (f.get_bool("quiet")) {
    def = "{{.Name}}";
    if (format == "table") format = "table {{.Name}}";
  }
  auto fmtr =
      BERTH_TRY(ListFormatter::create(format, def, volume_headers(), "*formatter.volumeContext"));
  std::vector<Json> rows;
  if (list.contains("Volumes") && list["Volumes"].is_array()) {
    for (const Json& v : list["Volumes"]) {
      rows.push_back(volume_row(v));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
    return a["Name"].get<std::string>() < b["Name"].get<std::string>();
  });
  ctx.out(BERTH_TRY(fmtr.render(rows)));
  return 0;
}

Result<int> run_inspect(Context& ctx, const FlagSet& f, const std::vector<std::string>& names) {
  EngineClient* c = BERTH_TRY(ctx.client());
  return print_inspect(ctx, names, f.get_string("format"),
                       [&](const std::string& n) { return c->inspect_volume_raw(n); });
}

Result<int> run_rm(Context& ctx, const FlagSet& f, const std::vector<std::string>& names) {
  EngineClient* c = BERTH_TRY(ctx.client());
  std::vector<std::string> errors;
  for (const auto& n : names) {
    auto r = c->remove_volume(n, f.get_bool("force"));
    if (!r) {
      if (r.error().code == Errc::Unavailable) return r.error();
      errors.push_back(r.error().message);
      continue;
    }
    ctx.out(n + "\n");
  }
  if (!errors.empty()) {
    ctx.err(join(errors, "\n") + "\n");
    return 1;
  }
  return 0;
}

Result<int> run_prune(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::vector<std::pair<std::string, std::string>> extra;
  bool all = f.get_bool("all");
  if (all) extra.emplace_back("all", "true");
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter"), extra));
  std::string warning =
      all ? "WARNING! This will remove all local volumes not used by at least one container."
          : "WARNING! This will remove anonymous local volumes not used by at least one "
            "container.";
  if (!f.get_bool("force") && !ask(ctx, warning + "\nAre you sure you want to continue?")) {
    return 0;
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  Json r = BERTH_TRY(c->prune_volumes(filters));
  std::string out;
  if (r.contains("VolumesDeleted") && r["VolumesDeleted"].is_array() &&
      !r["VolumesDeleted"].empty()) {
    out = "Deleted Volumes:\n";
    for (const Json& n : r["VolumesDeleted"])
      if (n.is_string()) out += n.get<std::string>() + "\n";
    out += "\n";
  }
  int64_t reclaimed = r.value("SpaceReclaimed", int64_t{0});
  ctx.out(out + "Total reclaimed space: " + human_size(static_cast<double>(reclaimed)) + "\n");
  return 0;
}

}  // namespace

void add_volume_commands(std::vector<Command>& cmds) {
  cmds.push_back({"volume create",
                  {},
                  "[OPTIONS] [VOLUME]",
                  "Create a volume",
                  0,
                  1,
                  [](FlagSet& f) {
                    f.add_string("driver", 'd', "local", "Specify volume driver name");
                    f.add_list("label", 0, "Set metadata for a volume");
                    f.add_string("name", 0, "", "Specify volume name");
                    f.add_list("opt", 'o', "Set driver specific options", "map");
                  },
                  run_create});
  cmds.push_back({"volume ls",
                  {"volume list"},
                  "[OPTIONS]",
                  "List volumes",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_list("filter", 'f', "Provide filter values (e.g. \"dangling=true\")",
                               "filter");
                    f.add_string("format", 0, "", "Format output using a custom template");
                    f.add_bool("quiet", 'q', "Only display volume names");
                  },
                  run_ls});
  cmds.push_back(
      {"volume inspect",
       {},
       "[OPTIONS] VOLUME [VOLUME...]",
       "Display detailed information on one or more volumes",
       1,
       -1,
       [](FlagSet& f) { f.add_string("format", 'f', "", "Format output using a custom template"); },
       run_inspect});
  cmds.push_back(
      {"volume rm",
       {"volume remove"},
       "[OPTIONS] VOLUME [VOLUME...]",
       "Remove one or more volumes",
       1,
       -1,
       [](FlagSet& f) { f.add_bool("force", 'f', "Force the removal of one or more volumes"); },
       run_rm});
  cmds.push_back({"volume prune",
                  {},
                  "[OPTIONS]",
                  "Remove unused local volumes",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_bool("all", 'a', "Remove all unused volumes, not just anonymous ones");
                    f.add_list("filter", 0, "Provide filter values (e.g. \"label=<label>\")",
                               "filter");
                    f.add_bool("force", 'f', "Do not prompt for confirmation");
                  },
                  run_prune});
}

}  // namespace berth::cli
