// images / image ls, image inspect / inspect, history, tag, rmi, image prune.
#include <fmt/format.h>

#include <iostream>

#include "base/strings.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/image_rows.h"
#include "cli/inspect_print.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

Result<int> run_images(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> extra;
  if (!args.empty()) extra.emplace_back("reference", args[0]);
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter"), extra));
  EngineClient* c = BERTH_TRY(ctx.client());
  api::client::ListImagesOptions o;
  o.all = f.get_bool("all");
  o.digests = f.get_bool("digests");
  o.filters_json = filters;
  auto images = BERTH_TRY(c->list_images(o));
  std::string format = f.get_string("format");
  bool quiet = f.get_bool("quiet");
  std::string def = f.get_bool("digests") ? kImagesDigestsTable : kImagesTable;
  if (quiet) {
    def = "{{.ID}}";
    if (format == "table") format = "table {{.ID}}";
  }
  auto fmtr =
      BERTH_TRY(ListFormatter::create(format, def, image_headers(), "*formatter.imageContext"));
  bool show_digests = f.get_bool("digests") || format.find("{{.Digest}}") != std::string::npos;
  auto rows =
      image_rows(images, show_digests, !f.get_bool("no-trunc"), ctx.now_unix(), fmtr.fields());
  ctx.out(BERTH_TRY(fmtr.render(rows)));
  return 0;
}

Result<int> inspect_names(Context& ctx, const std::vector<std::string>& names,
                          const std::string& format, const std::string& type) {
  EngineClient* c = BERTH_TRY(ctx.client());
  return print_inspect(ctx, names, format, [&](const std::string& name) -> Result<std::string> {
    if (type == "image") return c->inspect_image_raw(name);
    if (type == "container") return c->inspect_container_raw(name);
    auto raw = c->inspect_image_raw(name);
    if (!raw && raw.error().code == Errc::NotFound) {
      raw = c->inspect_container_raw(name);
      if (!raw && raw.error().code == Errc::NotFound)
        raw = Error{Errc::NotFound, 0, "Error: No such object: " + name};
    }
    return raw;
  });
}

Result<int> run_history(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  auto items = BERTH_TRY(c->history(args[0]));
  bool human = f.get_bool("human");
  std::string format = f.get_string("format");
  std::string def =
      human ? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
            : "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
  if (f.get_bool("quiet")) {
    def = "{{.ID}}";
    if (format == "table") format = "table {{.ID}}";
  }
  auto fmtr =
      BERTH_TRY(ListFormatter::create(format, def, history_headers(), "*image.historyContext"));
  auto rows = history_rows(items, human, !f.get_bool("no-trunc"), ctx.now_unix());
  ctx.out(BERTH_TRY(fmtr.render(rows)));
  return 0;
}

Result<int> run_tag(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  // docker's client checks both names first, with this prefix (an image id
  // "sha256:<hex>" is a valid source).
  auto bad_ref = [](const std::string& ref, const Error& e) {
    return make_error(e.code, "Error parsing reference: \"{}\" is not a valid repository/tag: {}",
                      ref, e.message);
  };
  if (!starts_with(args[0], "sha256:")) {
    if (auto src = oci::Reference::parse(args[0]); !src) return bad_ref(args[0], src.error());
  }
  auto target = oci::Reference::parse(args[1]);
  if (!target) return bad_ref(args[1], target.error());
  if (target->digest())
    return make_error(Errc::InvalidArgument, "refusing to create a tag with a digest reference");
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(c->tag(args[0], target->name(), target->tag().value_or("latest")));
  return 0;
}

Result<int> run_rmi(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  std::vector<std::string> errors;
  bool fatal = false;  // an error other than "no such image"
  for (const auto& name : args) {
    auto items = c->remove_image(name, f.get_bool("force"), f.get_bool("no-prune"));
    if (!items) {
      if (items.error().code == Errc::Unavailable) return items.error();
      if (items.error().code != Errc::NotFound) fatal = true;
      errors.push_back(items.error().message);
      continue;
    }
    std::string out;
    for (const auto& d : *items) {
      if (!d.deleted.empty())
        out += "Deleted: " + d.deleted + "\n";
      else
        out += "Untagged: " + d.untagged + "\n";
    }
    ctx.out(out);
  }
  if (!errors.empty()) {
    ctx.err(join(errors, "\n") + "\n");
    // docker's rmi -f reports missing images but does not fail for them.
    return f.get_bool("force") && !fatal ? 0 : 1;
  }
  return 0;
}

Result<int> run_image_prune(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  bool all = f.get_bool("all");
  std::vector<std::pair<std::string, std::string>> extra;
  extra.emplace_back("dangling", all ? "false" : "true");
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter"), extra));
  std::string warning = all ? "WARNING! This will remove all images without at least one container "
                              "associated to them."
                            : "WARNING! This will remove all dangling images.";
  if (!f.get_bool("force") && !confirm(ctx, warning + "\nAre you sure you want to continue?")) {
    return 0;
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  auto report = BERTH_TRY(c->prune_images(filters));
  std::string out;
  if (!report.deleted.empty()) {
    out += "Deleted Images:\n";
    for (const auto& d : report.deleted) {
      if (!d.untagged.empty())
        out += "untagged: " + d.untagged + "\n";
      else
        out += "deleted: " + d.deleted + "\n";
    }
    out += "\n";
  }
  out += "Total reclaimed space: " + human_size(static_cast<double>(report.space_reclaimed)) + "\n";
  ctx.out(out);
  return 0;
}

void images_flags(FlagSet& f) {
  f.add_bool("all", 'a', "Show all images (default hides intermediate images)");
  f.add_bool("digests", 0, "Show digests");
  f.add_list("filter", 'f', "Filter output based on conditions provided", "filter");
  f.add_string("format", 0, "",
               "Format output using a custom template:\n'table':            Print output in table "
               "format with column headers (default)\n'table TEMPLATE':   Print output in table "
               "format using the given Go template\n'json':             Print in JSON format\n"
               "'TEMPLATE':         Print output using the given Go template");
  f.add_bool("no-trunc", 0, "Don't truncate output");
  f.add_bool("quiet", 'q', "Only show image IDs");
}

}  // namespace

void add_image_commands(std::vector<Command>& cmds) {
  cmds.push_back({"image ls",
                  {"images", "image list"},
                  "[OPTIONS] [REPOSITORY[:TAG]]",
                  "List images",
                  0,
                  1,
                  images_flags,
                  run_images});
  cmds.push_back(
      {"image inspect",
       {},
       "[OPTIONS] IMAGE [IMAGE...]",
       "Display detailed information on one or more images",
       1,
       -1,
       [](FlagSet& f) { f.add_string("format", 'f', "", "Format output using a custom template"); },
       [](Context& ctx, const FlagSet& f, const std::vector<std::string>& a) {
         return inspect_names(ctx, a, f.get_string("format"), "image");
       }});
  cmds.push_back({"image history",
                  {"history"},
                  "[OPTIONS] IMAGE",
                  "Show the history of an image",
                  1,
                  1,
                  [](FlagSet& f) {
                    f.add_string("format", 0, "", "Format output using a custom template");
                    f.add_bool("human", 'H', "Print sizes and dates in human readable format",
                               true);
                    f.add_bool("no-trunc", 0, "Don't truncate output");
                    f.add_bool("quiet", 'q', "Only show image IDs");
                  },
                  run_history});
  cmds.push_back({"image tag",
                  {"tag"},
                  "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                  "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                  2,
                  2,
                  [](FlagSet&) {},
                  run_tag});
  cmds.push_back({"image rm",
                  {"rmi", "image remove"},
                  "[OPTIONS] IMAGE [IMAGE...]",
                  "Remove one or more images",
                  1,
                  -1,
                  [](FlagSet& f) {
                    f.add_bool("force", 'f', "Force removal of the image");
                    f.add_bool("no-prune", 0, "Do not delete untagged parents");
                  },
                  run_rmi});
  cmds.push_back({"image prune",
                  {},
                  "[OPTIONS]",
                  "Remove unused images",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_bool("all", 'a', "Remove all unused images, not just dangling ones");
                    f.add_list("filter", 0, "Provide filter values (e.g. \"until=<timestamp>\")",
                               "filter");
                    f.add_bool("force", 'f', "Do not prompt for confirmation");
                  },
                  run_image_prune});
}

}  // namespace berth::cli
