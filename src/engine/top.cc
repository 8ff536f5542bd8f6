// top: docker top through the host's ps.
#include "engine/top.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <regex>

#include "base/strings.h"

extern char** environ;

namespace berth::engine {
namespace {

// ASCII-whitespace fields (ps output is ASCII; docker splits the same way).
std::vector<std::string> fields_ascii(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

void append_row(TopResult& r, const std::vector<std::string>& f) {
  size_t n = r.titles.size();
  std::vector<std::string> row(f.begin(), f.begin() + static_cast<long>(std::min(n - 1, f.size())));
  std::vector<std::string> rest;
  if (f.size() >= n) rest.assign(f.begin() + static_cast<long>(n - 1), f.end());
  row.push_back(join(rest, " "));
  r.processes.push_back(std::move(row));
}

struct RunResult {
  int status = 0;
  std::string out, err;
};

Result<RunResult> run(const std::string& binary, const std::vector<std::string>& args,
                      std::chrono::milliseconds limit) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return sys_error("pipe");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return sys_error("pipe");
  }
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]), err_r(err_pipe[0]), err_w(err_pipe[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  std::vector<char*> argv;
  std::vector<std::string> all = {binary};
  all.insert(all.end(), args.begin(), args.end());
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, binary.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return sys_error(fmt::format("Error running ps: {}", binary), rc);
  out_w.reset();
  err_w.reset();

  RunResult res;
  auto deadline = std::chrono::steady_clock::now() + limit;
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p[2] = {{out_open ? out_r.get() : -1, POLLIN, 0},
                   {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = ::poll(p, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    char buf[65536];
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(p[i].fd, buf, sizeof buf);
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? res.out : res.err).append(buf, static_cast<size_t>(got));
      }
    }
  }
  if (timed_out) ::kill(pid, SIGKILL);  // our own child, by pid
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return make_error(Errc::DeadlineExceeded, "ps: timed out");
  res.status = status;
  return res;
}

}  // namespace

Result<void> validate_ps_args(std::string_view ps_args) {
  static const std::regex re(R"(\s+(\S*)=\s*(PID\S*))");
  std::string s(ps_args);
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
    std::string k = (*it)[1].str(), v = (*it)[2].str();
    if (k != "pid") {
      return make_error(Errc::InvalidArgument, "specifying \"{}={}\" is not allowed", k, v);
    }
  }
  return ok();
}

Result<TopResult> parse_ps_output(std::string_view output, const std::vector<pid_t>& pids) {
  auto lines = split(output, '\n');
  TopResult r;
  if (lines.empty()) return make_error(Errc::Internal, "Couldn't find PID field in ps output");
  r.titles = fields_ascii(lines[0]);
  auto pid_it = std::find(r.titles.begin(), r.titles.end(), "PID");
  if (pid_it == r.titles.end()) {
    return make_error(Errc::Internal, "Couldn't find PID field in ps output");
  }
  size_t pid_index = static_cast<size_t>(pid_it - r.titles.begin());
  // Thread rows ("ps -eLf"/"m") carry "-" as PID and belong to the row above.
  bool prev_contained = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    auto f = fields_ascii(lines[i]);
    if (f.size() <= pid_index) continue;
    if (f[pid_index] == "-") {
      if (prev_contained) append_row(r, f);
      continue;
    }
    auto p = parse_int(f[pid_index]);
    if (!p) return make_error(Errc::Internal, "Unexpected pid '{}'", f[pid_index]);
    if (std::find(pids.begin(), pids.end(), static_cast<pid_t>(*p)) != pids.end()) {
      prev_contained = true;
      append_row(r, f);
      continue;
    }
    prev_contained = false;
  }
  return r;
}

Result<TopResult> run_top(std::string_view ps_args, const std::vector<pid_t>& pids,
                          const std::string& ps_binary) {
  std::string a(ps_args.empty() ? "-ef" : ps_args);
  BERTH_TRY(validate_ps_args(a));
  std::vector<std::string> args = split(a, ' ');
  // As docker: first ask ps for just the container's pids (-q), and when
  // the given options do not combine with -q, list everything and filter.
  std::vector<std::string> with_q = args;
  if (!pids.empty()) {
    std::vector<std::string> ps;
    for (pid_t p : pids) ps.push_back(std::to_string(p));
    with_q.push_back("-q");
    with_q.push_back(join(ps, ","));
  }
  auto res = BERTH_TRY(run(ps_binary, with_q, std::chrono::seconds(10)));
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0) {
    res = BERTH_TRY(run(ps_binary, args, std::chrono::seconds(10)));
  }
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0) {
    std::string first = res.err.substr(0, res.err.find('\n'));
    if (first.empty()) {
      first = WIFEXITED(res.status) ? fmt::format("exit status {}", WEXITSTATUS(res.status))
                                    : std::string("killed by a signal");
    }
    return make_error(Errc::Internal, "ps: {}", first);
  }
  return parse_ps_output(res.out, pids);
}

}  // namespace berth::engine
