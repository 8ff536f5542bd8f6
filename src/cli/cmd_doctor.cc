// berth doctor: the host checks (cli/doctor.h), then whether berthd answers
// on its socket (and its own warnings from /info), then whether the
// dashboard answers. Exit status 1 when something essential is missing.
#include <fmt/format.h>

#include "api/client/dashboard_probe.h"
#include "cli/context.h"
#include "cli/doctor.h"

namespace berth::cli {
namespace {

Result<int> run_doctor(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  auto checks = host_checks(f.get_string("root"));
  // The daemon: reachable through the API only (docs/design/ARCHITECTURE.md).
  Check daemon{"berthd", CheckStatus::Ok, "", "", true};
  std::vector<std::string> warnings;
  auto client = ctx.client();
  if (!client) {
    daemon.status = CheckStatus::Missing;
    daemon.detail = client.error().message;
  } else if (auto ping = (*client)->ping(); !ping) {
    daemon.status = CheckStatus::Missing;
    daemon.detail = ping.error().message;
  } else {
    daemon.detail = fmt::format("answering at {} ({})", (*client)->host(),
                                ping->server.empty() ? "API " + ping->api_version : ping->server);
    if (auto info = (*client)->info();
        info && info->contains("Warnings") && (*info)["Warnings"].is_array()) {
      for (const auto& w : (*info)["Warnings"])
        if (w.is_string()) warnings.push_back(w.get<std::string>());
    }
  }
  if (daemon.status == CheckStatus::Missing)
    daemon.fix =
        "start it: systemctl enable --now berthd.socket (or run berthd as root); if it runs "
        "elsewhere, pass -H or set DOCKER_HOST";
  checks.push_back(daemon);
  Check dash{"dashboard", CheckStatus::Ok, "", "", false};
  std::string url = f.get_string("dashboard");
  if (auto s = api::client::dashboard_session(url); s) {
    bool login = s->value("login_required", false);
    dash.detail = fmt::format("answering at {}{}", url, login ? " (login token required)" : "");
  } else {
    dash.status = CheckStatus::Warn;
    dash.detail = fmt::format("no answer at {}", url);
    dash.fix =
        "berthd serves it on --dashboard (default tcp://127.0.0.1:9000; \"none\" turns it "
        "off); pass --dashboard URL here if it listens elsewhere";
  }
  checks.push_back(dash);

  std::string out = "berth doctor: checking this host and berthd\n\n";
  for (const auto& c : checks) out += format_check(c);
  for (const auto& w : warnings) out += fmt::format("  {:<8} berthd reports: {}\n", "WARNING", w);
  bool ok = all_essential_ok(checks);
  out += ok ? "\nEverything berth needs is here.\n"
            : "\nSomething berth needs is missing (see MISSING above).\n";
  ctx.out(out);
  return ok ? 0 : 1;
}

}  // namespace

void add_doctor_commands(std::vector<Command>& cmds) {
  cmds.push_back({"doctor",
                  {},
                  "[OPTIONS]",
                  "Check this host for what berth needs, and whether berthd answers",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_string("dashboard", 0, "http://127.0.0.1:9000",
                                 "Address of berthd's dashboard");
                    f.add_string("root", 0, "", "Read /proc and /sys under this directory");
                  },
                  run_doctor});
}

}  // namespace berth::cli
