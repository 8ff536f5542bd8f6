// The real docker CLI and docker-py (both Go/Python HTTP stacks, not ours)
// talking to the server over a unix socket: ping, version, a chunked JSON
// stream. Skipped when they are not installed.
#include <sys/wait.h>

#include <cstdio>

#include "http/test_util.h"

namespace berth::http {
namespace {

using testing::UnixServer;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Just enough of the Engine API for a client to say hello.
void mini_engine(Request& req, Response& res) {
  Headers h{{"API-Version", "1.41"}, {"OSType", "linux"}, {"Server", "berth-http-test"}};
  if (ends_with(req.path(), "/_ping")) {
    h.emplace("Content-Type", "text/plain; charset=utf-8");
    (void)res.send(200, h, "OK");
  } else if (ends_with(req.path(), "/version")) {
    h.emplace("Content-Type", "application/json");
    (void)res.send(200, h,
                   R"({"Version":"0.0-test","ApiVersion":"1.41","MinAPIVersion":"1.24",)"
                   R"("Os":"linux","Arch":"amd64","GoVersion":"n/a","GitCommit":"x",)"
                   R"("KernelVersion":"x","BuildTime":"x"})");
  } else if (ends_with(req.path(), "/images/create")) {
    h.emplace("Content-Type", "application/json");
    (void)res.begin_stream(200, h);
    (void)res.write("{\"status\":\"Pulling from " + req.param("fromImage").value_or("?") +
                    "\"}\r\n");
    (void)res.write("{\"status\":\"Done\"}\r\n");
    (void)res.end();
  } else {
    h.emplace("Content-Type", "application/json");
    (void)res.send(404, h, "{\"message\":\"page not found\"}");
  }
}

TEST(Peers, DockerCli) {
  const char* docker = ::access("/usr/bin/docker", X_OK) == 0         ? "/usr/bin/docker"
                       : ::access("/usr/local/bin/docker", X_OK) == 0 ? "/usr/local/bin/docker"
                                                                      : nullptr;
  if (!docker) GTEST_SKIP() << "no docker CLI";
  UnixServer s(mini_engine);
  std::string env = "HOME=" + s.dir.path() + " DOCKER_HOST=" + s.address + " ";
  EXPECT_EQ(run(env + docker + " version --format '{{.Server.Version}} {{.Server.APIVersion}}'"),
            "0.0-test 1.41\n");
}

TEST(Peers, DockerPy) {
  if (std::system("/usr/bin/python3 -c 'import docker' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no python3 docker module";
  UnixServer s(mini_engine);
  std::string script =
      "import docker\n"
      "c = docker.APIClient(base_url='" +
      s.address +
      "', version='1.41', timeout=20)\n"
      "print(c.ping(), c.version()['Version'])\n"
      "for m in c.pull('busybox', tag='latest', stream=True, decode=True): print(m['status'])\n";
  std::string path = s.dir.path() + "/peer.py";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_TRUE(f);
  std::fputs(script.c_str(), f);
  std::fclose(f);
  EXPECT_EQ(run("/usr/bin/python3 " + path + " 2>&1"),
            "True 0.0-test\nPulling from busybox\nDone\n");
}

}  // namespace
}  // namespace berth::http
