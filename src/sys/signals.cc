#include "sys/signals.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/strings.h"

namespace berth::sys {
namespace {

const std::pair<const char*, int> kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

}  // namespace

Result<int> parse_signal(std::string_view s) {
  auto bad = [&] { return make_error(Errc::InvalidArgument, "unknown signal \"{}\"", s); };
  if (auto n = parse_int(s)) {
    if (*n <= 0 || *n > SIGRTMAX) return bad();
    return static_cast<int>(*n);
  }
  std::string up;
  for (char c : s) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = up;
  if (starts_with(name, "SIG")) name.remove_prefix(3);
  for (auto& [n, v] : kSignals)
    if (name == n) return v;
  if (starts_with(name, "RTMIN") || starts_with(name, "RTMAX")) {
    bool min = starts_with(name, "RTMIN");
    std::string_view rest = name.substr(5);
    long long off = 0;
    if (!rest.empty()) {
      auto o = parse_int(rest.substr(1));
      if ((rest[0] != '+' && rest[0] != '-') || !o) return bad();
      off = rest[0] == '+' ? *o : -*o;
    }
    long long sig = (min ? SIGRTMIN : SIGRTMAX) + off;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return bad();
    return static_cast<int>(sig);
  }
  return bad();
}

std::string signal_name(int sig) {
  for (auto& [n, v] : kSignals)
    if (v == sig) return std::string("SIG") + n;
  return fmt::format("SIG{}", sig);
}

}  // namespace berth::sys
