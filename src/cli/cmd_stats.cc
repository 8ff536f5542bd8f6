// stats: docker's live table (redrawn in place on a terminal) and --no-stream.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/container_rows.h"
#include "cli/format.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

struct Shared {
  std::mutex mu;
  std::vector<StatsEntry> entries;
  std::atomic<bool> stop{false};
};

Result<std::vector<std::pair<std::string, std::string>>> targets(
    Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  std::vector<std::pair<std::string, std::string>> out;  // (as named, id)
  if (args.empty()) {
    api::client::Query q;
    if (f.get_bool("all")) q.emplace_back("all", "1");
    auto r = BERTH_TRY(c->call("GET", "/containers/json", q));
    Json list = BERTH_TRY(parse_json(r.body, "container list"));
    if (list.is_array())
      for (const Json& ct : list) {
        std::string id = ct.value("Id", "");
        out.emplace_back(id, id);
      }
    return out;
  }
  std::vector<std::string> errors;
  for (const auto& n : args) {
    auto info = inspect_container(*c, n);
    if (!info) {
      if (info.error().code == Errc::Unavailable) return info.error();
      errors.push_back(info.error().message);
      continue;
    }
    out.emplace_back(n, info->value("Id", n));
  }
  if (!errors.empty()) return make_error(Errc::NotFound, "{}", join(errors, "\n"));
  return out;
}

Result<std::string> render(const ListFormatter& fmtr, const std::vector<StatsEntry>& entries,
                           bool trunc) {
  std::vector<Json> rows;
  for (const auto& e : entries) rows.push_back(stats_row(e, trunc));
  return fmtr.render(rows);
}

Result<int> run_stats(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  auto fmtr = BERTH_TRY(ListFormatter::create(f.get_string("format"), kStatsTable, stats_headers(),
                                              "*container.statsContext"));
  auto list = BERTH_TRY(targets(ctx, f, args));
  bool trunc = !f.get_bool("no-trunc");
  if (f.get_bool("no-stream")) {
    EngineClient* c = BERTH_TRY(ctx.client());
    std::vector<StatsEntry> entries;
    for (auto& [named, id] : list) {
      StatsEntry e;
      e.container = named;
      e.id = id;
      auto r = c->call("GET", "/containers/" + id + "/stats", {{"stream", "0"}});
      if (!r) {
        e.error = true;
      } else if (auto j = parse_json(r->body, "container stats"); j) {
        stats_from_json(*j, e);
      } else {
        e.error = true;
      }
      entries.push_back(std::move(e));
    }
    ctx.out(BERTH_TRY(render(fmtr, entries, trunc)));
    return 0;
  }
  auto shared = std::make_shared<Shared>();
  for (auto& [named, id] : list) {
    StatsEntry e;
    e.container = named;
    e.id = id;
    shared->entries.push_back(e);
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < list.size(); ++i) {
    auto client = new_client(ctx);
    if (!client) return client.error();
    threads.emplace_back([shared, i, id = list[i].second, cl = std::move(*client)]() mutable {
      api::client::JsonLineDecoder dec;
      auto on_json = [&](const Json& j) -> Result<void> {
        std::lock_guard<std::mutex> lk(shared->mu);
        stats_from_json(j, shared->entries[i]);
        return ok();
      };
      auto r = cl->cli_request(
          "GET", "/containers/" + id + "/stats", {{"stream", "1"}}, {}, {},
          [&](std::string_view d) -> Result<void> {
            if (shared->stop) return make_error(Errc::Cancelled, "stopped");
            return dec.feed(d, on_json);
          },
          {}, false);
      if (!r) {
        std::lock_guard<std::mutex> lk(shared->mu);
        shared->entries[i].error = true;
      }
    });
  }
  for (auto& t : threads) t.detach();
  bool term = ctx.out_is_terminal();
  // Give the streams time for their first sample, then redraw twice a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  while (true) {
    std::string table;
    {
      std::lock_guard<std::mutex> lk(shared->mu);
      table = BERTH_TRY(render(fmtr, shared->entries, trunc));
    }
    if (term) {
      std::string out = "\033[H";
      for (const auto& line : split(table, '\n')) out += line + "\033[K\n";
      out.resize(out.size() - 1);
      out += "\033[J";
      ctx.out(out);
    } else {
      ctx.out(table);
    }
    ctx.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

void add_stats_commands(std::vector<Command>& cmds) {
  cmds.push_back({"container stats",
                  {"stats"},
                  "[OPTIONS] [CONTAINER...]",
                  "Display a live stream of container(s) resource usage statistics",
                  0,
                  -1,
                  [](FlagSet& f) {
                    f.add_bool("all", 'a', "Show all containers (default shows just running)");
                    f.add_string("format", 0, "", "Format output using a custom template");
                    f.add_bool("no-stream", 0,
                               "Disable streaming stats and only pull the first result");
                    f.add_bool("no-trunc", 0, "Do not truncate output");
                  },
                  run_stats});
}

}  // namespace berth::cli
