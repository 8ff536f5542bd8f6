// run, create, start, attach.
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/progress.h"
#include "cli/run_flags.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;
using api::client::Query;

constexpr const char* kRunUsage = "[OPTIONS] IMAGE [COMMAND] [ARG...]";

// docker's CLI status for a run whose create failed, read from the message:
// 127 for a missing file, 126 for one that cannot be used, 125 otherwise.
int create_error_status(const std::string& msg) {
  if (msg.find("executable file not found") != std::string::npos ||
      msg.find("no such file or directory") != std::string::npos)
    return 127;
  if (msg.find("permission denied") != std::string::npos ||
      msg.find("is a directory") != std::string::npos)
    return 126;
  return 125;
}

// A failed start: docker's rule, and the wordings of external runtimes
// (crun: "executable file `x` not found in $PATH", "cannot be executed").
int start_error_status(const std::string& msg) {
  if (int s = create_error_status(msg); s != 125) return s;
  if (msg.find("not found") != std::string::npos) return 127;
  if (msg.find("cannot be executed") != std::string::npos) return 126;
  return 125;
}

Result<void> pull_image(Context& ctx, EngineClient& c, const CreateRequest& req, bool quiet) {
  auto ref = oci::Reference::parse(req.image, true);
  if (!ref) return ref.error();
  api::client::PullOptions o;
  o.from_image = ref->name();
  if (ref->digest())
    o.tag = ref->digest()->str();
  else if (ref->tag())
    o.tag = *ref->tag();
  o.platform = req.platform;
  o.registry_auth = ctx.registry_auth(ref->domain());
  auto printer = std::make_shared<ProgressPrinter>(
      [&ctx, quiet](std::string_view s) {
        if (!quiet) ctx.err(s);
      },
      ::isatty(STDERR_FILENO) == 1, ctx.terminal_width());
  return c.pull(o, [printer, &ctx](const api::client::JsonMessage& m) -> Result<void> {
    printer->display(m, ctx.now_unix());
    return ok();
  });
}

// POST /containers/create, pulling the image first (--pull always) or when
// it is missing (--pull missing), as docker's createContainer does.
Result<std::string> create_container(Context& ctx, EngineClient& c, const CreateRequest& req,
                                     bool quiet) {
  Query q;
  if (!req.name.empty()) q.emplace_back("name", req.name);
  if (!req.platform.empty()) q.emplace_back("platform", req.platform);
  std::string body = dump_json(req.body);
  if (!req.cidfile.empty() && ::access(req.cidfile.c_str(), F_OK) == 0)
    return make_error(Errc::AlreadyExists,
                      "container ID file found, make sure the other container isn't running or "
                      "delete {}",
                      req.cidfile);
  if (req.pull == "always") BERTH_TRY(pull_image(ctx, c, req, quiet));
  auto r = c.call("POST", "/containers/create", q, body);
  if (!r && r.error().code == Errc::NotFound && req.pull == "missing" &&
      r.error().message.find("No such image") != std::string::npos) {
    std::string shown = req.image;
    if (auto ref = oci::Reference::parse(req.image, true)) shown = ref->familiar();
    ctx.err(fmt::format("Unable to find image '{}' locally\n", shown));
    BERTH_TRY(pull_image(ctx, c, req, quiet));
    r = c.call("POST", "/containers/create", q, body);
  }
  if (!r) return r.error();
  Json j = BERTH_TRY(parse_json(r->body, "container create response"));
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string())
    return make_error(Errc::Internal, "container create response without Id");
  if (j.contains("Warnings") && j["Warnings"].is_array())
    for (const Json& w : j["Warnings"])
      if (w.is_string()) ctx.err("WARNING: " + w.get<std::string>() + "\n");
  std::string id = j["Id"].get<std::string>();
  if (!req.cidfile.empty()) {
    std::ofstream out(req.cidfile);
    out << id;
  }
  return id;
}

// Prints a build_create_request error the way docker does and gives the status.
int report_option_error(Context& ctx, const std::string& cmd, const Error& e) {
  if (is_flag_value_error(e)) {
    ctx.err(fmt::format("{}\n\nUsage:  berth {} {}\n\nRun 'berth {} --help' for more information\n",
                        e.message, cmd, kRunUsage, cmd));
  } else {
    print_run_error(ctx, cmd, e.message);
  }
  return 125;
}

std::string detach_key_bytes(const std::string& flag) {
  auto k = parse_detach_keys(flag.empty() ? kDefaultDetachKeys : flag);
  return k ? *k : std::string("\x10\x11");
}

Query attach_query(bool in, bool out, bool err, const std::string& detach_keys, bool logs) {
  Query q{{"stream", "1"}};
  if (logs) q.emplace_back("logs", "1");
  if (in) q.emplace_back("stdin", "1");
  if (out) q.emplace_back("stdout", "1");
  if (err) q.emplace_back("stderr", "1");
  if (!detach_keys.empty()) q.emplace_back("detachKeys", detach_keys);
  return q;
}

AttachSession make_session(EngineClient* c, const std::string& id, bool tty, bool in,
                           const std::string& detach_keys_flag, bool sig_proxy, bool resize) {
  AttachSession s;
  s.tty = tty;
  s.stdin = in;
  if (in) s.detach_keys = detach_key_bytes(detach_keys_flag);
  s.sig_proxy = sig_proxy;
  s.resize = resize;
  s.resize_fn = [c, id](int rows, int cols) {
    (void)c->call("POST", "/containers/" + id + "/resize",
                  {{"h", std::to_string(rows)}, {"w", std::to_string(cols)}});
  };
  s.kill_fn = [c, id](int sig) {
    (void)c->call("POST", "/containers/" + id + "/kill", {{"signal", std::to_string(sig)}});
  };
  return s;
}

Result<int> run_run(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::optional<std::pair<int, int>> cs;
  if (f.get_bool("tty") && ctx.out_is_terminal()) cs = window_size(STDOUT_FILENO);
  auto req = build_create_request(f, args, {}, cs);
  if (!req) return report_option_error(ctx, "run", req.error());
  if (req->attach_stdin && req->tty && !ctx.in_is_terminal()) {
    ctx.err("the input device is not a TTY\n");
    return 1;
  }
  auto cr = ctx.client();
  if (!cr) {
    print_run_error(ctx, "run", cr.error().message);
    return 125;
  }
  EngineClient* c = *cr;
  auto id = create_container(ctx, *c, *req, f.get_bool("quiet"));
  if (!id) {
    print_run_error(ctx, "run", id.error().message);
    return create_error_status(id.error().message);
  }
  if (req->detach) {
    // As docker's CLI does: an --rm container whose start fails is removed by
    // the daemon, and run returns once it is gone.
    std::optional<PendingWait> gone;
    if (req->auto_remove) {
      if (auto w = PendingWait::start(ctx, *id, "removed")) gone = std::move(*w);
    }
    auto s = c->call("POST", "/containers/" + *id + "/start");
    if (!s) {
      print_run_error(ctx, "run", s.error().message);
      if (gone) (void)gone->result();
      return start_error_status(s.error().message);
    }
    ctx.out(*id + "\n");
    return 0;
  }
  bool attach = req->attach_stdin || req->attach_stdout || req->attach_stderr;
  std::optional<http::Client::Upgraded> up;
  if (attach) {
    auto u = c->cli_upgrade("POST", "/containers/" + *id + "/attach",
                            attach_query(req->attach_stdin, req->attach_stdout, req->attach_stderr,
                                         req->detach_keys, false),
                            "");
    if (!u) {
      print_run_error(ctx, "run", u.error().message);
      return 125;
    }
    up = std::move(*u);
  }
  auto wait = PendingWait::start(ctx, *id, req->auto_remove ? "removed" : "next-exit");
  if (!wait) {
    print_run_error(ctx, "run", wait.error().message);
    return 125;
  }
  auto s = c->call("POST", "/containers/" + *id + "/start");
  if (!s) {
    print_run_error(ctx, "run", s.error().message);
    if (req->auto_remove) (void)wait->result();  // the daemon removes it
    return start_error_status(s.error().message);
  }
  ctx.flush();
  if (up) {
    AttachSession sess =
        make_session(c, *id, req->tty, req->attach_stdin, req->detach_keys,
                     req->sig_proxy && !req->tty, req->tty && ctx.out_is_terminal());
    auto end = run_attach_session(up->fd.get(), std::move(up->buffered), sess);
    if (!end) {
      ctx.err(fmt::format("berth: {}\n", end.error().message));
      return 125;
    }
    if (*end == StreamEnd::Detached) return 0;
  }
  auto status = wait->result();
  if (!status) {
    print_run_error(ctx, "run", status.error().message);
    return 125;
  }
  return static_cast<int>(*status);
}

Result<int> run_create(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  std::optional<std::pair<int, int>> cs;
  if (f.get_bool("tty") && ctx.out_is_terminal()) cs = window_size(STDOUT_FILENO);
  auto req = build_create_request(f, args, {}, cs);
  if (!req) return report_option_error(ctx, "create", req.error());
  // docker create returns daemon errors plainly (status 1), unlike run.
  EngineClient* c = BERTH_TRY(ctx.client());
  std::string id = BERTH_TRY(create_container(ctx, *c, *req, f.get_bool("quiet")));
  ctx.out(id + "\n");
  return 0;
}

Result<int> run_start(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  bool attach = f.get_bool("attach"), interactive = f.get_bool("interactive");
  if (attach || interactive) {
    if (args.size() > 1)
      return make_error(Errc::InvalidArgument,
                        "you cannot start and attach multiple containers at once");
    Json info = BERTH_TRY(inspect_container(*c, args[0]));
    std::string id = info.value("Id", args[0]);
    const Json& cfg = info.contains("Config") ? info["Config"] : Json::object();
    bool tty = cfg.value("Tty", false);
    bool open_stdin = cfg.value("OpenStdin", false);
    bool in = interactive && open_stdin;
    bool auto_remove = info.contains("HostConfig") && info["HostConfig"].value("AutoRemove", false);
    if (in && tty && !ctx.in_is_terminal()) {
      ctx.err("the input device is not a TTY\n");
      return 1;
    }
    auto up = BERTH_TRY(
        c->cli_upgrade("POST", "/containers/" + id + "/attach",
                       attach_query(in, true, true, f.get_string("detach-keys"), false), ""));
    auto wait = BERTH_TRY(PendingWait::start(ctx, id, auto_remove ? "removed" : "next-exit"));
    auto s = c->call("POST", "/containers/" + id + "/start");
    if (!s) {
      if (auto_remove) (void)wait.result();  // the daemon removes it
      return s.error();
    }
    AttachSession sess = make_session(c, id, tty, in, f.get_string("detach-keys"), !tty,
                                      tty && ctx.out_is_terminal());
    auto end = BERTH_TRY(run_attach_session(up.fd.get(), std::move(up.buffered), sess));
    if (end == StreamEnd::Detached) return 0;
    return static_cast<int>(BERTH_TRY(wait.result()));
  }
  // docker start prints each failure as it happens and names them at the end.
  std::vector<std::string> failed;
  for (const auto& name : args) {
    auto r = c->call("POST", "/containers/" + http::url_encode(name) + "/start");
    if (!r) {
      if (r.error().code == Errc::Unavailable) return r.error();
      ctx.err(r.error().message + "\n");
      failed.push_back(name);
      continue;
    }
    ctx.out(name + "\n");
    ctx.flush();
  }
  if (!failed.empty())
    return make_error(Errc::Internal, "Error: failed to start containers: {}", join(failed, ", "));
  return 0;
}

Result<int> run_attach(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  EngineClient* c = BERTH_TRY(ctx.client());
  Json info = BERTH_TRY(inspect_container(*c, args[0]));
  std::string id = info.value("Id", args[0]);
  const Json& state = info.contains("State") ? info["State"] : Json::object();
  if (!state.value("Running", false))
    return make_error(Errc::InvalidArgument,
                      "You cannot attach to a stopped container, start it first");
  if (state.value("Paused", false))
    return make_error(Errc::InvalidArgument,
                      "You cannot attach to a paused container, unpause it first");
  if (state.value("Restarting", false))
    return make_error(Errc::InvalidArgument,
                      "You cannot attach to a restarting container, wait until it is running");
  const Json& cfg = info.contains("Config") ? info["Config"] : Json::object();
  bool tty = cfg.value("Tty", false);
  bool in = !f.get_bool("no-stdin") && cfg.value("OpenStdin", false);
  if (in && tty && !ctx.in_is_terminal()) {
    ctx.err("the input device is not a TTY\n");
    return 1;
  }
  auto up = BERTH_TRY(
      c->cli_upgrade("POST", "/containers/" + id + "/attach",
                     attach_query(in, true, true, f.get_string("detach-keys"), false), ""));
  auto wait = PendingWait::start(ctx, id, "");
  AttachSession sess = make_session(c, id, tty, in, f.get_string("detach-keys"),
                                    f.get_bool("sig-proxy") && !tty, tty && ctx.out_is_terminal());
  auto end = BERTH_TRY(run_attach_session(up.fd.get(), std::move(up.buffered), sess));
  // docker attach ends a detach with its EscapeError (status 1).
  if (end == StreamEnd::Detached) return make_error(Errc::Internal, "read escape sequence");
  if (!wait) return 0;
  auto st = wait->result();
  if (!st) return 0;
  return static_cast<int>(*st);
}

}  // namespace

void add_run_commands(std::vector<Command>& cmds) {
  cmds.push_back({"container run",
                  {"run"},
                  kRunUsage,
                  "Create and run a new container from an image",
                  1,
                  -1,
                  [](FlagSet& f) { add_create_flags(f, true); },
                  run_run});
  cmds.push_back({"container create",
                  {"create"},
                  kRunUsage,
                  "Create a new container",
                  1,
                  -1,
                  [](FlagSet& f) { add_create_flags(f, false); },
                  run_create});
  cmds.push_back({"container start",
                  {"start"},
                  "[OPTIONS] CONTAINER [CONTAINER...]",
                  "Start one or more stopped containers",
                  1,
                  -1,
                  [](FlagSet& f) {
                    f.add_bool("attach", 'a', "Attach STDOUT/STDERR and forward signals");
                    f.add_string("detach-keys", 0, "",
                                 "Override the key sequence for detaching a container");
                    f.add_bool("interactive", 'i', "Attach container's STDIN");
                  },
                  run_start});
  cmds.push_back({"container attach",
                  {"attach"},
                  "[OPTIONS] CONTAINER",
                  "Attach local standard input, output, and error streams to a running container",
                  1,
                  1,
                  [](FlagSet& f) {
                    f.add_string("detach-keys", 0, "",
                                 "Override the key sequence for detaching a container");
                    f.add_bool("no-stdin", 0, "Do not attach STDIN");
                    f.add_bool("sig-proxy", 0, "Proxy all received signals to the process", true);
                  },
                  run_attach});
}

}  // namespace berth::cli
