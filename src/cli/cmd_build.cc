// build (image build, builder build): docker's classic `docker build`
// (DOCKER_BUILDKIT=0): the context goes to POST /build as a tar, the
// daemon's JSON messages come back and are shown like docker shows them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "api/client/auth.h"
#include "base/file.h"
#include "base/json.h"
#include "base/size.h"
#include "base/strings.h"
#include "cli/build_context.h"
#include "cli/context.h"
#include "cli/progress.h"
#include "cli/run_flags.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

using api::client::ByteSource;
using api::client::EngineClient;
using api::client::JsonMessage;
using api::client::Query;

// docker's progress.Reader: a terminal sees the count every 512 KiB (at
// most every 100 ms), anything else only the last line.
constexpr uint64_t kProgressEvery = 512 * 1024;

Result<std::string> read_up_to(int fd, size_t max) {
  std::string out(max, '\0');
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::read(fd, out.data() + got, max - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("reading stdin");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Result<std::string> read_all_stdin() {
  std::string all;
  while (true) {
    std::string piece = BERTH_TRY(read_up_to(STDIN_FILENO, 1 << 20));
    if (piece.empty()) return all;
    all += piece;
  }
}

// Stdin as it comes, after the bytes already read from it.
ByteSource stdin_source(std::string head) {
  auto pending = std::make_shared<std::string>(std::move(head));
  return [pending]() -> Result<std::string> {
    if (!pending->empty()) {
      std::string h;
      h.swap(*pending);
      return h;
    }
    std::string buf(1 << 20, '\0');
    while (true) {
      ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("reading the build context from stdin");
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
  };
}

bool is_remote_context(const std::string& s) {
  return starts_with(s, "http://") || starts_with(s, "https://") || starts_with(s, "git://") ||
         starts_with(s, "git@") || starts_with(s, "github.com/");
}

// docker's opts.ValidateExtraHost.
Result<void> check_extra_host(const std::string& h) {
  auto sep = h.find('=');
  if (sep == std::string::npos) sep = h.find(':');
  std::string host = sep == std::string::npos ? h : h.substr(0, sep);
  if (sep == std::string::npos || host.empty() || host.find(':') != std::string::npos)
    return flag_value_error("--add-host", h, fmt::format("bad format for add-host: \"{}\"", h));
  std::string ip = h.substr(sep + 1);
  if (ip == "host-gateway") return ok();
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  unsigned char buf[16];
  if (::inet_pton(AF_INET, ip.c_str(), buf) != 1 && ::inet_pton(AF_INET6, ip.c_str(), buf) != 1)
    return flag_value_error("--add-host", h,
                            fmt::format("invalid IP address in add-host: \"{}\"", ip));
  return ok();
}

std::optional<std::string> real_env(const std::string& k) {
  const char* v = std::getenv(k.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

// X-Registry-Config: every login of the config file, keyed by its server,
// as docker's CLI sends them (the daemon picks what FROM needs).
std::string registry_config(const ConfigFile& cfg) {
  Json all = Json::object();
  const Json& j = cfg.json();
  if (j.contains("auths") && j["auths"].is_object()) {
    for (auto it = j["auths"].begin(); it != j["auths"].end(); ++it) {
      auto creds = cfg.get(it.key());
      if (!creds || !*creds) continue;
      const Credentials& c = **creds;
      Json a = Json::object();
      if (!c.username.empty()) a["username"] = c.username;
      if (!c.password.empty()) a["password"] = c.password;
      a["serveraddress"] = it.key();
      if (!c.identity_token.empty()) a["identitytoken"] = c.identity_token;
      all[it.key()] = a;
    }
  }
  return api::client::base64_encode(dump_json(all), true);
}

Result<void> write_iidfile(const std::string& path, const std::string& id) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return sys_error("open " + path);
  auto r = write_all(fd, id);
  ::close(fd);
  return r;
}

// The tar to send and the `dockerfile` parameter, from PATH | - and -f.
struct Source {
  ByteSource body;
  std::unique_ptr<ContextTar> tar;  // owned here while `body` reads it
  std::string dockerfile;
};

// `gzip` (--compress) applies to the tars made here; a tar piped to stdin
// goes as it came (the daemon reads plain and compressed tars alike).
Result<Source> prepare_source(const std::string& spec, const std::string& file, bool gzip) {
  Source s;
  if (spec == "-") {
    // docker peeks two tar blocks to tell a tar (or compressed tar) from a
    // Dockerfile piped in.
    std::string head = BERTH_TRY(read_up_to(STDIN_FILENO, 1024));
    if (looks_like_archive(head)) {
      s.body = stdin_source(std::move(head));
      s.dockerfile = file;
      return s;
    }
    if (!file.empty())
      return make_error(Errc::InvalidArgument,
                        "unable to prepare context: ambiguous Dockerfile source: both stdin and "
                        "flag correspond to Dockerfiles");
    std::string text = head + BERTH_TRY(read_all_stdin());
    ContextTarOptions o;
    o.gzip = gzip;
    o.extra.push_back(
        ExtraFile{"Dockerfile", std::move(text), 0644, static_cast<int64_t>(::time(nullptr))});
    s.tar = BERTH_TRY(ContextTar::create(std::move(o)));
    s.dockerfile = "Dockerfile";
  } else {
    struct stat st {};
    if (::stat(spec.c_str(), &st) != 0 && is_remote_context(spec))
      return make_error(Errc::NotImplemented,
                        "berth build: remote contexts (URL) are not supported");
    auto lc = resolve_local_context(spec, file);
    if (!lc) return lc.error().context("unable to prepare context");
    std::optional<std::string> text;
    if (lc->dockerfile == "-") {
      text = BERTH_TRY(read_all_stdin());
    } else if (lc->dockerfile_outside()) {
      auto t = read_file(file);
      if (!t) return make_error(t.error().code, "unable to open Dockerfile: {}", t.error().message);
      text = std::move(*t);
    }
    auto p = BERTH_TRY(prepare_dir_context(*lc, std::move(text), "", gzip));
    s.tar = std::move(p.tar);
    s.dockerfile = p.dockerfile;
  }
  ContextTar* tar = s.tar.get();
  s.body = [tar]() { return tar->next(); };
  return s;
}

// -m, --memory-swap (-1 = unlimited), --shm-size: go-units sizes.
Result<int64_t> size_flag(const FlagSet& f, const char* name, const char* label) {
  const std::string& v = f.get_string(name);
  if (!f.changed(name) || v.empty()) return int64_t{0};
  if (std::string_view(name) == "memory-swap" && v == "-1") return int64_t{-1};
  auto b = parse_ram_in_bytes(v);
  if (!b) return flag_value_error(label, v, b.error().message);
  return *b;
}

// The RUN containers' limits (docker build's flags of the same names).
Result<void> step_limits(const FlagSet& f, api::client::BuildOptions& o) {
  o.memory = BERTH_TRY(size_flag(f, "memory", "-m, --memory"));
  o.memory_swap = BERTH_TRY(size_flag(f, "memory-swap", "--memory-swap"));
  o.shm_size = BERTH_TRY(size_flag(f, "shm-size", "--shm-size"));
  o.cpu_shares = f.get_int("cpu-shares");
  o.cpu_period = f.get_int("cpu-period");
  o.cpu_quota = f.get_int("cpu-quota");
  o.cpuset_cpus = f.get_string("cpuset-cpus");
  o.cpuset_mems = f.get_string("cpuset-mems");
  o.cgroup_parent = f.get_string("cgroup-parent");
  o.isolation = f.get_string("isolation");
  // A string slice, as docker's: repeated or comma-separated.
  for (const auto& v : f.get_list("cache-from"))
    for (const auto& name : split(v, ',', true)) o.cache_from.push_back(name);
  for (const auto& u : f.get_list("ulimit")) {
    auto j = parse_ulimit(u);
    if (!j) return flag_value_error("--ulimit", u, j.error().message);
    if (!o.ulimits.is_array()) o.ulimits = Json::array();
    o.ulimits.push_back(*j);
  }
  return ok();
}

Result<int> run_build(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  const std::string& spec = args[0];
  const std::string& file = f.get_string("file");
  const bool quiet = f.get_bool("quiet");
  // Values docker checks while parsing flags (exit 125 with the usage).
  for (const auto& t : f.get_list("tag")) {
    auto r = oci::Reference::parse(t, false);
    if (!r) return flag_value_error("-t, --tag", t, r.error().message);
  }
  for (const auto& h : f.get_list("add-host")) BERTH_TRY(check_extra_host(h));
  api::client::BuildOptions o;
  BERTH_TRY(step_limits(f, o));
  o.build_args = BERTH_TRY(parse_build_args(f.get_list("build-arg"), real_env));
  o.labels = BERTH_TRY(parse_build_labels(f.get_list("label")));

  if (file == "-" && spec == "-")
    return make_error(Errc::InvalidArgument,
                      "invalid argument: can't use stdin for both build context and dockerfile");
  const std::string& iidfile = f.get_string("iidfile");
  // No stale id is left behind by a build that fails.
  if (!iidfile.empty() && ::unlink(iidfile.c_str()) != 0 && errno != ENOENT)
    return sys_error("Removing image ID file: unlink " + iidfile);

  Source src = BERTH_TRY(prepare_source(spec, file, f.get_bool("compress")));

  o.tags = f.get_list("tag");
  o.dockerfile = src.dockerfile;
  o.quiet = quiet;
  o.no_cache = f.get_bool("no-cache");
  o.pull = f.get_bool("pull");
  o.remove = f.get_bool("rm");
  o.force_remove = f.get_bool("force-rm");
  o.target = f.get_string("target");
  o.network_mode = f.get_string("network");
  o.extra_hosts = f.get_list("add-host");
  o.platform = f.get_string("platform");
  if (auto cfg = ctx.config()) {
    o.registry_config = registry_config(*cfg);
    add_proxy_build_args(cfg->json(), api::client::resolve_host(ctx.global().host), o.build_args);
  }

  // With -q everything is held back: shown (on stderr) only if the build fails.
  std::string prog_buf, build_buf;
  auto writer = [&](std::string& held) {
    return [&ctx, &held, quiet](std::string_view s) {
      if (quiet) {
        held.append(s);
        return;
      }
      ctx.out(s);
      ctx.flush();
    };
  };
  auto prog_write = writer(prog_buf);
  auto build_write = writer(build_buf);

  const bool terminal = ctx.out_is_terminal();
  uint64_t sent = 0, shown = 0;
  auto last_shown = std::chrono::steady_clock::time_point{};
  bool final_shown = false;
  auto show_sent = [&](bool final) {
    JsonMessage m;
    m.current = static_cast<int64_t>(sent);
    m.has_progress = true;
    // docker's raw progress line: "\r" to redraw it, "\n" after the last.
    prog_write("Sending build context to berth daemon " +
               progress_string(m, ctx.terminal_width(), ctx.now_unix()) + "\r" +
               (final ? "\n" : ""));
  };
  o.context = [&]() -> Result<std::string> {
    std::string piece = BERTH_TRY(src.body());
    if (piece.empty()) {
      if (!final_shown) show_sent(true);
      final_shown = true;
      return piece;
    }
    sent += piece.size();
    auto now = std::chrono::steady_clock::now();
    if (terminal && sent - shown > kProgressEvery &&
        now - last_shown >= std::chrono::milliseconds(100)) {
      show_sent(false);
      shown = sent;
      last_shown = now;
    }
    return piece;
  };

  std::string image_id;
  std::optional<std::pair<std::string, int64_t>> failure;
  ProgressPrinter printer(build_write, terminal, ctx.terminal_width());
  auto on_message = [&](const JsonMessage& m) -> Result<void> {
    if (m.error) {
      failure.emplace(*m.error, m.error_code);
      return ok();
    }
    if (!m.aux.is_null()) {
      if (m.aux.is_object() && m.aux.contains("ID") && m.aux["ID"].is_string())
        image_id = m.aux["ID"].get<std::string>();
      return ok();
    }
    printer.display(m, ctx.now_unix());
    return ok();
  };

  auto* c = BERTH_TRY(ctx.client());
  auto r = c->build(o, on_message);
  if (!r) {
    if (quiet && !(prog_buf + build_buf).empty()) ctx.err(prog_buf + build_buf);
    if (!failure) return r.error();
    // docker exits with the error's code (a failed RUN's status), else 1.
    ctx.err(failure->first + "\n");
    int64_t code = failure->second;
    return code > 0 && code < 256 ? static_cast<int>(code) : 1;
  }
  if (image_id.empty() && quiet) image_id = std::string(trim(build_buf));
  if (quiet) ctx.out(image_id.empty() ? build_buf : image_id + "\n");
  if (!iidfile.empty()) {
    if (image_id.empty())
      return make_error(Errc::Internal, "Server did not provide an image ID. Cannot write {}",
                        iidfile);
    BERTH_TRY(write_iidfile(iidfile, image_id));
  }
  return 0;
}

// docker's `builder prune`: berthd keeps no build cache apart from images,
// so its answer is usually empty, but the command, prompt and report are
// docker's (scripts run `docker builder prune -f`).
Result<int> run_builder_prune(Context& ctx, const FlagSet& f, const std::vector<std::string>&) {
  std::string filters = BERTH_TRY(filters_json(f.get_list("filter")));
  int64_t keep = BERTH_TRY(size_flag(f, "keep-storage", "--keep-storage"));
  bool all = f.get_bool("all");
  std::string warning = all ? "WARNING! This will remove all build cache."
                            : "WARNING! This will remove all dangling build cache.";
  if (!f.get_bool("force") && !confirm(ctx, warning + " Are you sure you want to continue?"))
    return 0;
  Query q;
  if (all) q.emplace_back("all", "1");
  if (keep > 0) q.emplace_back("keep-storage", std::to_string(keep));
  if (!filters.empty()) q.emplace_back("filters", filters);
  EngineClient* c = BERTH_TRY(ctx.client());
  auto r = BERTH_TRY(c->call("POST", "/build/prune", q));
  Json j = BERTH_TRY(parse_json(r.body, "build prune response"));
  std::string out;
  if (auto d = j.find("CachesDeleted"); d != j.end() && d->is_array() && !d->empty()) {
    out += "Deleted build cache objects:\n";
    for (const Json& id : *d)
      if (id.is_string()) out += id.get<std::string>() + "\n";
    out += "\n";
  }
  int64_t total = 0;
  if (auto s = j.find("SpaceReclaimed"); s != j.end() && s->is_number_integer())
    total = s->get<int64_t>();
  out += "Total reclaimed space: " + human_size(static_cast<double>(total)) + "\n";
  ctx.out(out);
  return 0;
}

}  // namespace

void add_build_commands(std::vector<Command>& cmds) {
  cmds.push_back(
      {"image build",
       {"build", "builder build"},
       "[OPTIONS] PATH | URL | -",
       "Build an image from a Dockerfile",
       1,
       1,
       [](FlagSet& f) {
         f.add_list("add-host", 0, "Add a custom host-to-IP mapping (\"host:ip\")", "list");
         f.add_list("build-arg", 0, "Set build-time variables", "list");
         f.add_list("cache-from", 0, "Images to consider as cache sources", "strings");
         f.add_string("cgroup-parent", 0, "",
                      "Set the parent cgroup for the \"RUN\" instructions during build");
         f.add_bool("compress", 0, "Compress the build context using gzip");
         f.add_int("cpu-period", 0, 0, "Limit the CPU CFS (Completely Fair Scheduler) period");
         f.add_int("cpu-quota", 0, 0, "Limit the CPU CFS (Completely Fair Scheduler) quota");
         f.add_int("cpu-shares", 'c', 0, "CPU shares (relative weight)");
         f.add_string("cpuset-cpus", 0, "", "CPUs in which to allow execution (0-3, 0,1)");
         f.add_string("cpuset-mems", 0, "", "MEMs in which to allow execution (0-3, 0,1)");
         f.add_bool("disable-content-trust", 0, "Skip image verification", true);
         f.add_string("file", 'f', "", "Name of the Dockerfile (Default is \"PATH/Dockerfile\")");
         f.add_bool("force-rm", 0, "Always remove intermediate containers");
         f.add_string("iidfile", 0, "", "Write the image ID to the file");
         f.add_string("isolation", 0, "", "Container isolation technology");
         f.add_list("label", 0, "Set metadata for an image", "list");
         f.add_string("memory", 'm', "", "Memory limit", "bytes");
         f.add_string("memory-swap", 0, "",
                      "Swap limit equal to memory plus swap: -1 to enable unlimited swap", "bytes");
         f.add_string("network", 0, "default",
                      "Set the networking mode for the RUN instructions during build");
         f.add_bool("no-cache", 0, "Do not use cache when building the image");
         const char* platform = std::getenv("DOCKER_DEFAULT_PLATFORM");
         f.add_string("platform", 0, platform ? platform : "",
                      "Set platform if server is multi-platform capable");
         f.add_bool("pull", 0, "Always attempt to pull a newer version of the image");
         f.add_bool("quiet", 'q', "Suppress the build output and print image ID on success");
         f.add_bool("rm", 0, "Remove intermediate containers after a successful build", true);
         f.add_string("shm-size", 0, "", "Size of /dev/shm", "bytes");
         f.add_list("tag", 't', "Name and optionally a tag in the \"name:tag\" format", "list");
         f.add_string("target", 0, "", "Set the target build stage to build.");
         f.add_list("ulimit", 0, "Ulimit options", "ulimit");
       },
       run_build});
  cmds.push_back({"builder prune",
                  {},
                  "[OPTIONS]",
                  "Remove build cache",
                  0,
                  0,
                  [](FlagSet& f) {
                    f.add_bool("all", 'a', "Remove all unused build cache, not just dangling ones");
                    f.add_list("filter", 0, "Provide filter values (e.g. \"until=24h\")", "filter");
                    f.add_bool("force", 'f', "Do not prompt for confirmation");
                    f.add_string("keep-storage", 0, "", "Amount of disk space to keep for cache",
                                 "bytes");
                  },
                  run_builder_prune});
}

}  // namespace berth::cli
