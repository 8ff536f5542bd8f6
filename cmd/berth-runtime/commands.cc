#include "cmd/berth-runtime/commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/json.h"
#include "base/strings.h"
#include "oci/spec_codec.h"
#include "runtime/features.h"
#include "sys/signals.h"

namespace berth::cli_runtime {

Result<int64_t> parse_bytes(const std::string& s) {
  std::string t(trim(s));
  if (t == "-1") return -1;
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  auto num = parse_int(t.substr(0, i));
  if (!num) return make_error(Errc::InvalidArgument, "invalid size {:?}", s);
  std::string unit = t.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  int64_t mult = 1;
  if (unit == "k")
    mult = 1LL << 10;
  else if (unit == "m")
    mult = 1LL << 20;
  else if (unit == "g")
    mult = 1LL << 30;
  else if (unit == "t")
    mult = 1LL << 40;
  else if (!unit.empty())
    return make_error(Errc::InvalidArgument, "invalid size {:?}", s);
  return *num * mult;
}

Result<int> cmd_spec(const std::string& bundle, bool rootless) {
  std::string path = bundle + "/config.json";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0)
    return make_error(Errc::AlreadyExists, "File {} exists. Remove it first", path);
  BERTH_TRY(write_file_atomic(
      path, dump_json(oci::spec_to_json(oci::default_spec(rootless)), 2) + "\n", 0666 & ~0022));
  return 0;
}

Result<int> cmd_state(runtime::Runtime& rt, const std::string& id) {
  Json j = BERTH_TRY(rt.state_json(id));
  std::cout << dump_json(j, 2) << "\n";
  return 0;
}

Result<int> cmd_list(runtime::Runtime& rt, const std::string& format, bool quiet) {
  auto all = BERTH_TRY(rt.list());
  if (quiet) {
    for (const auto& c : all) std::cout << c.record.id << "\n";
    return 0;
  }
  if (format == "json") {
    Json arr = Json::array();
    for (const auto& c : all) {
      auto st = rt.state_json(c.record.id);
      if (st) arr.push_back(*st);
    }
    std::cout << dump_json(arr) << "\n";
    return 0;
  }
  std::printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
              "OWNER");
  for (const auto& c : all) {
    int pid = c.status == runtime::Status::Stopped ? 0 : c.record.pid;
    std::printf("%-12s %-8d %-10s %-40s %-32s %s\n", c.record.id.c_str(), pid,
                runtime::status_name(c.status), c.record.bundle.c_str(), c.record.created.c_str(),
                c.record.owner.c_str());
  }
  return 0;
}

Result<int> cmd_kill(runtime::Runtime& rt, const std::string& id, const std::string& sig,
                     bool all) {
  int s = BERTH_TRY(sys::parse_signal(sig));
  BERTH_TRY(rt.kill(id, s, all));
  return 0;
}

Result<int> cmd_ps(runtime::Runtime& rt, const std::string& id, const std::string& format,
                   const std::vector<std::string>& ps_args) {
  auto pids = BERTH_TRY(rt.pids(id));
  if (format == "json") {
    std::cout << dump_json(Json(pids)) << "\n";
    return 0;
  }
  // Like runc: run the host's ps and keep the header plus the container's rows.
  std::vector<std::string> args = {"ps"};
  if (ps_args.empty())
    args.push_back("-ef");
  else
    args.insert(args.end(), ps_args.begin(), ps_args.end());
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork ps");
  if (child == 0) {
    ::dup2(p[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    ::_exit(127);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int st;
  ::waitpid(child, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return make_error(Errc::Internal, "ps {} failed", join(args, " "));
  auto lines = split(out, '\n', true);
  if (lines.empty()) return 0;
  auto header = split(lines[0], ' ', true);
  size_t col = 0;
  for (; col < header.size() && header[col] != "PID"; ++col) {
  }
  if (col == header.size()) return make_error(Errc::InvalidArgument, "ps output has no PID column");
  std::set<long long> want(pids.begin(), pids.end());
  std::cout << lines[0] << "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = split(lines[i], ' ', true);
    if (col < f.size()) {
      auto v = parse_int(f[col]);
      if (v && want.count(*v)) std::cout << lines[i] << "\n";
    }
  }
  return 0;
}

Result<int> cmd_exec(runtime::Runtime& rt, const std::string& id, const ExecFlags& f) {
  runtime::ExecOptions o;
  o.detach = f.detach;
  o.pid_file = f.pid_file;
  o.console_socket = f.console_socket;
  o.preserve_fds = f.preserve_fds;
  if (!f.process_file.empty()) {
    std::string text = BERTH_TRY(read_file(f.process_file));
    Json pj = BERTH_TRY(parse_json(text, f.process_file));
    // Decode through the spec decoder so errors name process.<field>.
    Json wrapper = {{"ociVersion", oci::kSpecVersion}, {"process", pj}};
    oci::Spec s = BERTH_TRY(oci::spec_from_json(wrapper, f.process_file));
    o.process = *s.process;
  } else {
    oci::Spec spec = BERTH_TRY(rt.spec(id));
    o.process = spec.process ? *spec.process : oci::Process{};
    o.process.args = f.args;
    o.process.terminal = f.tty;
    o.process.console_size.reset();
    if (f.args.empty()) return make_error(Errc::InvalidArgument, "exec: no command given");
  }
  if (!f.cwd.empty()) o.process.cwd = f.cwd;
  for (const auto& e : f.env) o.process.env.push_back(e);
  if (!f.user.empty()) {
    auto parts = split(f.user, ':');
    auto uid = parse_uint(parts[0]);
    if (!uid) return make_error(Errc::InvalidArgument, "--user {:?}: expected UID[:GID]", f.user);
    o.process.user.uid = static_cast<uint32_t>(*uid);
    if (parts.size() > 1) {
      auto gid = parse_uint(parts[1]);
      if (!gid) return make_error(Errc::InvalidArgument, "--user {:?}: expected UID[:GID]", f.user);
      o.process.user.gid = static_cast<uint32_t>(*gid);
    }
  }
  for (const auto& g : f.additional_gids) {
    auto v = parse_uint(g);
    if (!v) return make_error(Errc::InvalidArgument, "--additional-gids: invalid gid {:?}", g);
    o.process.user.additional_gids.push_back(static_cast<uint32_t>(*v));
  }
  if (!f.caps.empty()) {
    auto& c = o.process.capabilities ? *o.process.capabilities : o.process.capabilities.emplace();
    for (const auto& cap : f.caps)
      for (auto* set : {&c.bounding, &c.effective, &c.permitted, &c.ambient, &c.inheritable})
        set->push_back(cap);
  }
  if (f.no_new_privs) o.process.no_new_privileges = true;
  return rt.exec(id, o);
}

Result<int> cmd_update(runtime::Runtime& rt, const std::string& id, const UpdateFlags& f) {
  oci::Resources r;
  if (!f.resources_file.empty()) {
    std::string text;
    if (f.resources_file == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      text = BERTH_TRY(read_file(f.resources_file));
    }
    Json rj = BERTH_TRY(parse_json(text, "resources"));
    Json wrapper = {{"ociVersion", oci::kSpecVersion}, {"linux", {{"resources", rj}}}};
    oci::Spec s = BERTH_TRY(oci::spec_from_json(wrapper, "resources"));
    if (s.linux && s.linux->resources) r = *s.linux->resources;
  }
  auto& mem = r.memory ? *r.memory : r.memory.emplace();
  if (f.memory) mem.limit = BERTH_TRY(parse_bytes(*f.memory));
  if (f.memory_reservation) mem.reservation = BERTH_TRY(parse_bytes(*f.memory_reservation));
  if (f.memory_swap) mem.swap = BERTH_TRY(parse_bytes(*f.memory_swap));
  if (!mem.limit && !mem.reservation && !mem.swap && !mem.swappiness) r.memory.reset();
  if (f.cpu_shares || f.cpu_quota || f.cpu_period || f.cpuset_cpus || f.cpuset_mems) {
    auto& c = r.cpu ? *r.cpu : r.cpu.emplace();
    if (f.cpu_shares) c.shares = f.cpu_shares;
    if (f.cpu_quota) c.quota = f.cpu_quota;
    if (f.cpu_period) c.period = f.cpu_period;
    if (f.cpuset_cpus) c.cpus = *f.cpuset_cpus;
    if (f.cpuset_mems) c.mems = *f.cpuset_mems;
  }
  if (f.pids_limit) r.pids = oci::PidsResources{*f.pids_limit};
  if (f.blkio_weight) {
    auto& b = r.block_io ? *r.block_io : r.block_io.emplace();
    b.weight = static_cast<uint16_t>(*f.blkio_weight);
  }
  BERTH_TRY(rt.update(id, r));
  return 0;
}

Result<int> cmd_features() {
  std::cout << dump_json(runtime::features_json(), 2) << "\n";
  return 0;
}

}  // namespace berth::cli_runtime
