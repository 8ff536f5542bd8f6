// `berth logs` against a scripted daemon on a unix socket: output goes to
// stdout/stderr by stream, and a daemon error answer is printed with the
// daemon's message (it used to read "HTTP status 501").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "api/types/containers.h"
#include "base/fd.h"
#include "cli/app.h"

namespace berth::cli {
namespace {

std::string answer(int status, const std::string& reason, const std::string& type,
                   const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nApi-Version: 1.47\r\n" +
         "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// Answers GET requests (no bodies) with canned responses chosen by the
// first key of `routes` found in the request line; 404 otherwise.
class ScriptedDaemon {
 public:
  explicit ScriptedDaemon(std::map<std::string, std::string> routes) : routes_(std::move(routes)) {
    char t[] = "/tmp/berth-cli-logs-XXXXXX";
    dir_ = ::mkdtemp(t);
    sock_ = dir_ + "/d.sock";
    listen_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_.c_str());
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_.get(), 8), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedDaemon() {
    stop_ = true;
    thread_.join();
    std::filesystem::remove_all(dir_);
  }
  std::string host() const { return "unix://" + sock_; }

 private:
  void serve() {
    for (int i = 0; i < 1000 && !stop_; i++) {  // at most ~100 s
      pollfd p{listen_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      Fd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) continue;
      std::string in;
      char buf[4096];
      for (int k = 0; k < 100 && !stop_;) {  // requests of one kept-alive connection
        size_t end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          std::string line = in.substr(0, in.find("\r\n"));
          in.erase(0, end + 4);
          std::string out = answer(404, "Not Found", "application/json", R"({"message":"no"})");
          for (const auto& [key, resp] : routes_)
            if (line.find(key) != std::string::npos) {
              out = resp;
              break;
            }
          if (::send(c.get(), out.data(), out.size(), MSG_NOSIGNAL) < 0) break;
          k++;
          continue;
        }
        pollfd q{c.get(), POLLIN, 0};
        if (::poll(&q, 1, 100) <= 0) continue;
        ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
    }
  }

  std::map<std::string, std::string> routes_;
  std::string dir_, sock_;
  Fd listen_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs the CLI with stdout and stderr going to files; returns {code, out, err}.
struct Captured {
  int code;
  std::string out, err;
};
Captured run_captured(const std::vector<std::string>& args) {
  char o[] = "/tmp/berth-cli-out-XXXXXX", e[] = "/tmp/berth-cli-err-XXXXXX";
  int of = ::mkstemp(o), ef = ::mkstemp(e);
  fflush(stdout);
  fflush(stderr);
  int so = ::dup(1), se = ::dup(2);
  ::dup2(of, 1);
  ::dup2(ef, 2);
  int code = run_app(args);
  fflush(stdout);
  fflush(stderr);
  ::dup2(so, 1);
  ::dup2(se, 2);
  ::close(so);
  ::close(se);
  auto slurp = [](int fd) {
    std::string s;
    char buf[4096];
    ssize_t n;
    ::lseek(fd, 0, SEEK_SET);
    while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return s;
  };
  Captured r{code, slurp(of), slurp(ef)};
  ::unlink(o);
  ::unlink(e);
  return r;
}

TEST(LogsCommand, StreamsToStdoutAndStderrAndPrintsTheDaemonsError) {
  const std::string mux = api::kMultiplexedStream;
  std::string frames = api::frame_stream(1, "a\n") + api::frame_stream(2, "b\n") +
                       api::frame_stream(1, "c\n") + api::frame_stream(1, "d\n");
  ScriptedDaemon d({
      {"/_ping", answer(200, "OK", "text/plain", "OK")},
      {"/containers/quiet/json",
       answer(200, "OK", "application/json", R"({"Id":"q1","Config":{"Tty":false}})")},
      {"/containers/q1/logs",
       answer(501, "Not Implemented", "application/json",
              R"({"message":"configured logging driver does not support reading"})"
              "\n")},
      {"/containers/chatty/json",
       answer(200, "OK", "application/json", R"({"Id":"c1","Config":{"Tty":false}})")},
      {"/containers/c1/logs", answer(200, "OK", mux, frames)},
  });
  setenv("DOCKER_HOST", d.host().c_str(), 1);
  Captured q = run_captured({"logs", "quiet"});
  EXPECT_EQ(q.code, 1);
  EXPECT_EQ(q.out, "");
  EXPECT_EQ(q.err,
            "Error response from daemon: configured logging driver does not support reading\n");
  Captured c = run_captured({"logs", "chatty"});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, "a\nc\nd\n");
  EXPECT_EQ(c.err, "b\n");
  unsetenv("DOCKER_HOST");
}

}  // namespace
}  // namespace berth::cli
