// pull, push, search (with berth's --tags), login, logout.
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "api/client/auth.h"
#include "base/strings.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/image_rows.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

Result<int> run_pull(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  bool all = f.get_bool("all-tags");
  bool quiet = f.get_bool("quiet");
  auto ref = oci::Reference::parse(args[0], false);
  if (!ref) return ref.error();
  if (all && (ref->tag() || ref->digest()))
    return make_error(Errc::InvalidArgument, "tag can't be used with --all-tags/-a");
  oci::Reference r = *ref;
  if (!all && !r.tag() && !r.digest()) {
    r = r.with_tag("latest");
    if (!quiet) ctx.out("Using default tag: latest\n");
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  api::client::PullOptions o;
  o.from_image = r.name();
  if (r.digest())
    o.tag = r.digest()->str();
  else if (r.tag())
    o.tag = *r.tag();
  o.platform = f.get_string("platform");
  o.registry_auth = ctx.registry_auth(r.domain());
  BERTH_TRY(c->pull(o, progress_printer(ctx, quiet)));
  ctx.out((all ? r.name() : r.str()) + "\n");
  return 0;
}

Result<int> run_push(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  bool all = f.get_bool("all-tags");
  bool quiet = f.get_bool("quiet");
  auto ref = oci::Reference::parse(args[0], false);
  if (!ref) return ref.error();
  if (ref->digest()) return make_error(Errc::InvalidArgument, "cannot push a digest reference");
  if (all && ref->tag())
    return make_error(Errc::InvalidArgument, "tag can't be used with --all-tags/-a");
  oci::Reference r = *ref;
  if (!all && !r.tag()) {
    r = r.with_tag("latest");
    if (!quiet) ctx.out("Using default tag: latest\n");
  }
  if (!r.tag() && !all) return make_error(Errc::InvalidArgument, "no tag to push");
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(c->push(r.familiar_name(), r.tag().value_or(""), ctx.registry_auth(r.domain()),
                    progress_printer(ctx, quiet)));
  if (quiet) ctx.out(r.str() + "\n");
  return 0;
}

Result<int> run_search(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  std::string term = args[0];
  // The registry is the term's first component when it looks like a host.
  std::string domain = "docker.io";
  if (auto slash = term.find('/'); slash != std::string::npos) {
    std::string first = term.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost") domain = first;
  }
  std::string auth = ctx.registry_auth(domain);
  std::string format = f.get_string("format");
  if (f.get_bool("tags")) {
    auto tags = BERTH_TRY(c->list_tags(term, auth));
    std::vector<Json> rows;
    for (auto& t : tags) rows.push_back(Json{{"Name", term}, {"Tag", t}});
    auto fmtr = BERTH_TRY(ListFormatter::create(
        format, "table {{.Tag}}", Json{{"Name", "NAME"}, {"Tag", "TAG"}}, "*formatter.tagContext"));
    ctx.out(BERTH_TRY(fmtr.render(rows)));
    return 0;
  }
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  long long limit = f.get_int("limit");
  if (limit < 0 || limit > 100)
    return make_error(Errc::InvalidArgument, "limit {} is outside the range of [1, 100]", limit);
  auto results = BERTH_TRY(c->search(term, static_cast<int>(limit), filters, auth));
  auto fmtr = BERTH_TRY(ListFormatter::create(
      format, "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}",
      search_headers(), "*formatter.searchContext"));
  ctx.out(BERTH_TRY(fmtr.render(search_rows(results, !f.get_bool("no-trunc")))));
  return 0;
}

Result<std::string> read_line_tty(Context& ctx, const std::string& prompt, bool secret) {
  ctx.out(prompt);
  ctx.flush();
  struct termios old {};
  bool restored = true;
  if (secret && ::tcgetattr(STDIN_FILENO, &old) == 0) {
    struct termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    restored = false;
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (!restored) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    ctx.out("\n");
  }
  if (!got) return make_error(Errc::InvalidArgument, "Error: no input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<int> run_login(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::string user = f.get_string("username");
  std::string pass = f.get_string("password");
  bool pass_stdin = f.get_bool("password-stdin");
  if (!pass.empty()) {
    ctx.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    if (pass_stdin)
      return make_error(Errc::InvalidArgument,
                        "--password and --password-stdin are mutually exclusive");
  }
  if (pass_stdin) {
    if (user.empty())
      return make_error(Errc::InvalidArgument, "Must provide --username with --password-stdin");
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
    pass = all;
  }
  std::string server = ConfigFile::normalize_server(args.empty() ? "" : args[0]);
  ConfigFile cfg = BERTH_TRY(ctx.config());
  if (user.empty() || pass.empty()) {
    if (!ctx.in_is_terminal())
      return make_error(Errc::InvalidArgument,
                        "Error: Cannot perform an interactive login from a non TTY device");
    if (user.empty()) {
      user = std::string(trim(BERTH_TRY(read_line_tty(ctx, "Username: ", false))));
      if (user.empty())
        return make_error(Errc::InvalidArgument, "Error: Non-null Username Required");
    }
    if (pass.empty()) {
      pass = BERTH_TRY(read_line_tty(ctx, "Password: ", true));
      if (pass.empty()) return make_error(Errc::InvalidArgument, "Error: Password Required");
    }
  }
  EngineClient* c = BERTH_TRY(ctx.client());
  auto resp = BERTH_TRY(c->login(user, pass, server));
  if (auto helper = cfg.helper_for(server))
    return make_error(Errc::FailedPrecondition,
                      "Error saving credentials: the credential helper \"{}\" is configured in {}; "
                      "berth does not run credential helpers and will not store the password in "
                      "the file instead",
                      *helper, cfg.path());
  Credentials cred;
  cred.username = user;
  cred.password = pass;
  if (!resp.identity_token.empty()) {
    cred.password.clear();
    cred.identity_token = resp.identity_token;
  }
  cfg.set(server, cred);
  BERTH_TRY(cfg.save());
  ctx.err(fmt::format(
      "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper "
      "to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n",
      cfg.path()));
  ctx.out((resp.status.empty() ? std::string("Login Succeeded") : resp.status) + "\n");
  return 0;
}

Result<int> run_logout(Context& ctx, const FlagSet&, const std::vector<std::string>& args) {
  std::string server = ConfigFile::normalize_server(args.empty() ? "" : args[0]);
  ConfigFile cfg = BERTH_TRY(ctx.config());
  if (!cfg.erase(server)) {
    ctx.out(fmt::format("Not logged in to {}\n", server));
    return 0;
  }
  ctx.out(fmt::format("Removing login credentials for {}\n", server));
  BERTH_TRY(cfg.save());
  return 0;
}

}  // namespace

void add_registry_commands(std::vector<Command>& cmds) {
  cmds.push_back({"image pull",
                  {"pull"},
                  "[OPTIONS] NAME[:TAG|@DIGEST]",
                  "Download an image from a registry",
                  1,
                  1,
                  [](FlagSet& f) {
                    f.add_bool("all-tags", 'a', "Download all tagged images in the repository");
                    f.add_bool("disable-content-trust", 0, "Skip image verification", true);
                    f.add_string("platform", 0, "",
                                 "Set platform if server is multi-platform capable");
                    f.add_bool("quiet", 'q', "Suppress verbose output");
                  },
                  run_pull});
  cmds.push_back({"image push",
                  {"push"},
                  "[OPTIONS] NAME[:TAG]",
                  "Upload an image to a registry",
                  1,
                  1,
                  [](FlagSet& f) {
                    f.add_bool("all-tags", 'a', "Push all tags of an image to the repository");
                    f.add_bool("disable-content-trust", 0, "Skip image signing", true);
                    f.add_string("platform", 0, "", "Push a platform-specific manifest");
                    f.add_bool("quiet", 'q', "Suppress verbose output");
                  },
                  run_push});
  cmds.push_back({"search",
                  {},
                  "[OPTIONS] TERM",
                  "Search Docker Hub for images",
                  1,
                  1,
                  [](FlagSet& f) {
                    f.add_list("filter", 'f', "Filter output based on conditions provided",
                               "filter");
                    f.add_string("format", 0, "", "Pretty-print search using a Go template");
                    f.add_int("limit", 0, 0, "Max number of search results");
                    f.add_bool("no-trunc", 0, "Don't truncate output");
                    f.add_bool("tags", 0, "List the tags of repository TERM (berth extension)");
                  },
                  run_search});
  cmds.push_back({"login",
                  {},
                  "[OPTIONS] [SERVER]",
                  "Authenticate to a registry",
                  0,
                  1,
                  [](FlagSet& f) {
                    f.add_string("password", 'p', "", "Password or Personal Access Token (PAT)");
                    f.add_bool("password-stdin", 0,
                               "Take the Password or Personal Access Token (PAT) from stdin");
                    f.add_string("username", 'u', "", "Username");
                  },
                  run_login});
  cmds.push_back(
      {"logout", {}, "[SERVER]", "Log out from a registry", 0, 1, [](FlagSet&) {}, run_logout});
}

}  // namespace berth::cli
