// registry/test_support.h — test-only helpers: child servers on 127.0.0.1
// (Debian's docker-registry, the Python fake registry) started on a free
// port, waited for with a bounded poll, and stopped by pid in the destructor.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "registry/curl_easy.h"

extern char** environ;

namespace berth::registry::testing {

inline constexpr const char* kRegistryBin = "/usr/bin/docker-registry";
inline constexpr const char* kPython = "/usr/bin/python3";

inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

inline std::filesystem::path make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "berth-registry-test-XXXXXX");
  char* p = mkdtemp(tmpl.data());
  return p ? std::filesystem::path(p) : std::filesystem::path();
}

// A child process listening on 127.0.0.1:port; killed and reaped on destruction.
class ChildServer {
 public:
  ChildServer() = default;
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;
  ~ChildServer() { stop(); }

  // Starts argv with stdout+stderr to `log`, then polls GET url until any HTTP
  // answer (at most `wait`). Returns "" or the reason it failed.
  std::string start(const std::vector<std::string>& argv, const std::filesystem::path& log,
                    const std::string& url,
                    std::chrono::milliseconds wait = std::chrono::milliseconds(15000)) {
    log_ = log;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // setpriv (util-linux) execs the server with PDEATHSIG=KILL, so even a
    // crashed test binary leaves no server running.
    std::vector<std::string> full;
    if (access("/usr/bin/setpriv", X_OK) == 0)
      full = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (const auto& a : full) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      return "spawn " + argv[0] + " failed";
    }
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return argv[0] + " exited early: " + read_log();
      }
      detail::Request req;
      req.url = url;
      req.connect_timeout = std::chrono::seconds(2);
      auto r = detail::perform(req);
      if (r && r->status > 0) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return argv[0] + " did not answer at " + url + ": " + read_log();
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string read_log() const {
    std::ifstream f(log_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// Debian's docker-registry with filesystem storage in a temp dir; optional
// htpasswd basic auth (user/password hashed with bcrypt by htpasswd -B).
class LocalRegistry {
 public:
  ~LocalRegistry() {
    server_.stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string start(const std::string& user = "", const std::string& password = "") {
    if (access(kRegistryBin, X_OK) != 0) return std::string("skip: ") + kRegistryBin + " missing";
    dir_ = make_temp_dir();
    port_ = free_port();
    if (dir_.empty() || port_ <= 0) return "no temp dir or port";
    std::string auth;
    if (!user.empty()) {
      std::string cmd = "htpasswd -Bbn '" + user + "' '" + password + "' > '" +
                        (dir_ / "htpasswd").string() + "' 2>/dev/null";
      if (std::system(cmd.c_str()) != 0) return "htpasswd failed";
      auth =
          "auth:\n  htpasswd:\n    realm: test-realm\n    path: " + (dir_ / "htpasswd").string() +
          "\n";
    }
    std::ofstream(dir_ / "config.yml")
        << "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
        << "storage:\n  filesystem:\n    rootdirectory: " << (dir_ / "data").string()
        << "\n  delete:\n    enabled: true\n"
        << "http:\n  addr: 127.0.0.1:" << port_ << "\n"
        << auth;
    return server_.start({kRegistryBin, "serve", (dir_ / "config.yml").string()},
                         dir_ / "registry.log", url() + "/v2/");
  }
  int port() const { return port_; }
  std::string domain() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + domain(); }

 private:
  std::filesystem::path dir_;
  int port_ = -1;
  ChildServer server_;
};

// testdata/fake_registry.py with the given flags.
class FakeRegistry {
 public:
  ~FakeRegistry() {
    server_.stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string start(std::vector<std::string> flags = {}) {
    if (access(kPython, X_OK) != 0) return std::string("skip: ") + kPython + " missing";
    dir_ = make_temp_dir();
    port_ = free_port();
    std::filesystem::path script =
        std::filesystem::path(__FILE__).parent_path() / "testdata" / "fake_registry.py";
    std::vector<std::string> argv = {kPython, script.string(), "--port", std::to_string(port_)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return server_.start(argv, dir_ / "fake.log", url() + "/_stats");
  }
  int port() const { return port_; }
  std::string domain() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + domain(); }

 private:
  std::filesystem::path dir_;
  int port_ = -1;
  ChildServer server_;
};

}  // namespace berth::registry::testing
