// Shared pieces of the container commands (cli/cmd_container.h).
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "base/strings.h"
#include "cli/cmd_container.h"

namespace berth::cli {

Result<std::unique_ptr<api::client::EngineClient>> new_client(const Context& ctx) {
  const GlobalOptions& g = ctx.global();
  api::client::Options o;
  o.host = g.host;
  // The first client's version (negotiated or accepted) holds for this
  // daemon: no second /_ping.
  o.api_version = ctx.known_api_version();
  if (g.tls || !g.tls_ca.empty() || !g.tls_cert.empty())
    o.tls = http::TlsConfig{g.tls_cert, g.tls_key, g.tls_ca};
  return api::client::EngineClient::connect(o);
}

Result<Json> inspect_container(api::client::EngineClient& c, const std::string& name) {
  std::string raw = BERTH_TRY(c.inspect_container_raw(name));
  return parse_json(raw, "container inspect response");
}

Result<PendingWait> PendingWait::start(const Context& ctx, const std::string& id,
                                       const std::string& condition) {
  PendingWait w;
  w.client_ = BERTH_TRY(new_client(ctx));
  api::client::Query q;
  if (!condition.empty()) q.emplace_back("condition", condition);
  BERTH_TRY(w.client_->cli_begin("POST", "/containers/" + id + "/wait", q));
  return w;
}

Result<int64_t> PendingWait::result() {
  std::string body = BERTH_TRY(client_->cli_finish());
  Json j = BERTH_TRY(parse_json(trim(body), "container wait response"));
  if (j.is_object() && j.contains("Error") && j["Error"].is_object() &&
      j["Error"].contains("Message") && j["Error"]["Message"].is_string() &&
      !j["Error"]["Message"].get<std::string>().empty())
    return make_error(Errc::Internal, "{}", j["Error"]["Message"].get<std::string>());
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return make_error(Errc::Internal, "Error response from daemon: {}",
                      j["message"].get<std::string>());
  if (!j.is_object() || !j.contains("StatusCode") || !j["StatusCode"].is_number())
    return make_error(Errc::Internal, "container wait response without StatusCode");
  return j["StatusCode"].get<int64_t>();
}

Result<StreamEnd> run_attach_session(int conn, std::string buffered, const AttachSession& s) {
  std::optional<RawTerminal> raw;
  if (s.tty && s.stdin && ::isatty(STDIN_FILENO)) {
    auto r = RawTerminal::make(STDIN_FILENO);
    if (r) raw.emplace(std::move(*r));
  }
  std::vector<int> sigs;
  if (s.resize) sigs.push_back(SIGWINCH);
  if (s.sig_proxy)
    for (int x : proxied_signals()) sigs.push_back(x);
  SignalPipe* pipe = nullptr;
  if (!sigs.empty()) pipe = BERTH_TRY(SignalPipe::install(sigs));
  std::unique_ptr<SignalPipe> pipe_owner(pipe);
  if (s.resize && s.resize_fn) {
    if (auto ws = window_size(STDOUT_FILENO)) s.resize_fn(ws->first, ws->second);
  }
  StreamIo io;
  io.tty = s.tty;
  io.send_stdin = s.stdin;
  io.detach_keys = s.detach_keys;
  io.signals = pipe;
  io.on_signal = [&](int sig) {
    if (sig == SIGWINCH) {
      if (s.resize_fn)
        if (auto ws = window_size(STDOUT_FILENO)) s.resize_fn(ws->first, ws->second);
      return;
    }
    if (s.kill_fn) s.kill_fn(sig);
  };
  auto r = pump_stream(conn, std::move(buffered), io);
  if (raw) raw->restore();
  return r;
}

void print_run_error(Context& ctx, const std::string& cmd, const std::string& msg) {
  ctx.err(fmt::format("berth: {}\n\nRun 'berth {} --help' for more information\n", msg, cmd));
}

namespace {
struct SigName {
  const char* name;
  int num;
};
constexpr SigName kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}};
}  // namespace

int signal_number(const std::string& name_in) {
  if (auto n = parse_int(name_in)) return static_cast<int>(*n);
  std::string name = name_in;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (starts_with(name, "SIG")) name = name.substr(3);
  for (const auto& s : kSignals)
    if (name == s.name) return s.num;
  if (starts_with(name, "RTMIN")) {
    if (name == "RTMIN") return SIGRTMIN;
    if (auto n = parse_int(name.substr(6)); n && name[5] == '+')
      return SIGRTMIN + static_cast<int>(*n);
  }
  if (starts_with(name, "RTMAX")) {
    if (name == "RTMAX") return SIGRTMAX;
    if (auto n = parse_int(name.substr(6)); n && name[5] == '-')
      return SIGRTMAX - static_cast<int>(*n);
  }
  return 0;
}

std::string signal_name(int sig) {
  for (const auto& s : kSignals)
    if (s.num == sig) return std::string("SIG") + s.name;
  return std::to_string(sig);
}

}  // namespace berth::cli
