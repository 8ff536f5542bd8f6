// `berth build` against a scripted daemon: the request docker's CLI would
// send (query, headers, the context tar), the answer's messages shown like
// docker shows them, -q, --iidfile, and the error paths with their exits.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "api/client/auth.h"
#include "api/client/engine_client.h"
#include "cli/context.h"
#include "cli/run_flags.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

struct Scripted {
  int status = 200;
  std::string body;
};

class FakeHttp : public http::Client {
 public:
  std::deque<Scripted> answers;
  std::vector<http::ClientRequest> seen;
  std::vector<std::string> uploaded;

  Result<http::ClientResponse> request(http::ClientRequest req) override {
    std::string all;
    if (req.body_source) {
      while (true) {
        auto c = req.body_source();
        if (!c) return c.error();
        if (c->empty()) break;
        all += *c;
      }
    }
    uploaded.push_back(all);
    seen.push_back(req);
    if (answers.empty()) return make_error(Errc::Unavailable, "no answer scripted");
    Scripted a = answers.front();
    answers.pop_front();
    http::ClientResponse r;
    r.status = a.status;
    if (req.on_chunk)
      BERTH_TRY(req.on_chunk(a.body));
    else
      r.body = a.body;
    return r;
  }
  Result<Upgraded> upgrade(http::ClientRequest) override {
    return make_error(Errc::NotImplemented, "no upgrade");
  }
  Result<http::ClientResponse> begin(http::ClientRequest) override {
    return make_error(Errc::NotImplemented, "no long poll");
  }
  Result<http::ClientResponse> finish() override {
    return make_error(Errc::NotImplemented, "no long poll");
  }
};

std::vector<std::string> tar_names(const std::string& tar) {
  std::vector<std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) out.push_back(archive_entry_pathname(e));
  archive_read_free(a);
  return out;
}

// The query parameters of a request target, in order.
std::vector<std::pair<std::string, std::string>> query_of(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string::npos) return out;
  auto unescape = [](const std::string& s) {
    std::string o;
    for (size_t i = 0; i < s.size(); i++) {
      if (s[i] == '%' && i + 2 < s.size()) {
        o += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        o += s[i];
      }
    }
    return o;
  };
  std::string rest = target.substr(q + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t amp = rest.find('&', start);
    std::string kv = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    auto eq = kv.find('=');
    out.emplace_back(unescape(kv.substr(0, eq)), unescape(kv.substr(eq + 1)));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

class BuildCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-build-cmd-XXXXXX";
    root_ = ::mkdtemp(t);
    ctx_dir_ = root_ + "/ctx";
    cfg_dir_ = root_ + "/config";
    fs::create_directories(ctx_dir_);
    fs::create_directories(cfg_dir_);
    write(ctx_dir_ + "/Dockerfile", "FROM busybox\n");
    write(ctx_dir_ + "/app.txt", "hello\n");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const std::string& p, const std::string& content) {
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

  // Runs `berth build ARGS` with the scripted answers.
  Result<int> run(const std::vector<std::string>& args, std::deque<Scripted> answers) {
    std::vector<Command> cmds;
    add_build_commands(cmds);
    const Command* cmd = nullptr;
    for (const auto& c : cmds)
      if (std::string_view(c.path) == "image build") cmd = &c;
    EXPECT_NE(cmd, nullptr);
    EXPECT_EQ(std::string(cmd->aliases[0]), "build");
    EXPECT_EQ(std::string(cmd->aliases[1]), "builder build");
    FlagSet f;
    cmd->flags(f);
    http_ = nullptr;
    auto pos = f.parse(args);
    if (!pos) return pos.error();
    auto h = std::make_unique<FakeHttp>();
    http_ = h.get();
    http_->answers = std::move(answers);
    api::client::Options o;
    o.host = "unix:///x.sock";
    o.api_version = "1.47";
    GlobalOptions g;
    g.config_dir = cfg_dir_;
    ctx_.reset();
    ctx_.emplace(g, std::make_unique<api::client::EngineClient>(std::move(h), o));
    ctx_->out_sink = [this](std::string_view s) { out_ += s; };
    ctx_->err_sink = [this](std::string_view s) { err_ += s; };
    return cmd->run(*ctx_, f, *pos);
  }

  std::string root_, ctx_dir_, cfg_dir_;
  std::string out_, err_;
  FakeHttp* http_ = nullptr;
  std::optional<Context> ctx_;
};

constexpr const char* kId =
    "sha256:5f1d8a04b8a1b6e0d7c6a3c2a8e7b9d0c1f2e3d4a5b6c7d8e9f0a1b2c3d4e5f6";

Scripted success_stream() {
  std::string id = kId;
  return {200,
          "{\"stream\":\"Step 1/1 : FROM busybox\\n\"}\n"
          "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\n"
          "{\"stream\":\" ---\\u003e 5f1d8a04b8a1\\n\"}\n"
          "{\"aux\":{\"ID\":\"" +
              id +
              "\"}}\n"
              "{\"stream\":\"Successfully built 5f1d8a04b8a1\\n\"}\n"};
}

TEST_F(BuildCommandTest, SendsDockersBuildRequest) {
  write(cfg_dir_ + "/config.json", R"({"auths":{"registry.example:5000":{"auth":")" +
                                       api::client::base64_encode("user:pw") + R"("}}})");
  setenv("BERTH_TEST_BUILD_ARG", "from-env", 1);
  std::string iid = root_ + "/iid";
  write(iid, "stale");
  auto r = run({"-t",
                "app:1",
                "--tag",
                "registry.example:5000/team/app",
                "--build-arg",
                "V=1",
                "--build-arg",
                "BERTH_TEST_BUILD_ARG",
                "--build-arg",
                "BERTH_TEST_UNSET_ARG",
                "--label",
                "org=berth",
                "--no-cache",
                "--pull",
                "--rm=false",
                "--force-rm",
                "--target",
                "final",
                "--network",
                "host",
                "--add-host",
                "db:10.0.0.2",
                "--add-host",
                "cache:10.0.0.3",
                "--platform",
                "linux/amd64",
                "--iidfile",
                iid,
                "-m",
                "64m",
                "--memory-swap",
                "-1",
                "--shm-size",
                "8m",
                "-c",
                "512",
                "--cpu-period",
                "100000",
                "--cpu-quota",
                "50000",
                "--cpuset-cpus",
                "0",
                "--cpuset-mems",
                "0",
                "--cgroup-parent",
                "builds",
                "--ulimit",
                "nofile=100:200",
                "--isolation",
                "default",
                "--cache-from",
                "app:0,app:prev",
                "--cache-from",
                "other",
                ctx_dir_},
               {success_stream()});
  unsetenv("BERTH_TEST_BUILD_ARG");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 0);
  ASSERT_EQ(http_->seen.size(), 1u);
  const auto& req = http_->seen[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_TRUE(req.target.starts_with("/v1.47/build?")) << req.target;
  std::vector<std::pair<std::string, std::string>> want = {
      {"t", "app:1"},
      {"t", "registry.example:5000/team/app"},
      {"dockerfile", "Dockerfile"},
      {"buildargs", R"({"BERTH_TEST_BUILD_ARG":"from-env","V":"1"})"},
      {"labels", R"({"org":"berth"})"},
      {"nocache", "1"},
      {"pull", "1"},
      {"rm", "0"},
      {"forcerm", "1"},
      {"target", "final"},
      {"networkmode", "host"},
      {"extrahosts", "db:10.0.0.2"},
      {"extrahosts", "cache:10.0.0.3"},
      {"platform", "linux/amd64"},
      {"cpusetcpus", "0"},
      {"cpusetmems", "0"},
      {"cpushares", "512"},
      {"cpuquota", "50000"},
      {"cpuperiod", "100000"},
      {"memory", "67108864"},
      {"memswap", "-1"},
      {"shmsize", "8388608"},
      {"cgroupparent", "builds"},
      {"ulimits", R"([{"Hard":200,"Name":"nofile","Soft":100}])"},
      {"cachefrom", R"(["app:0","app:prev","other"])"},
      {"isolation", "default"},
      {"version", "1"}};
  EXPECT_EQ(query_of(req.target), want);
  EXPECT_EQ(req.headers.find("Content-Type")->second, "application/x-tar");
  auto rc = api::client::base64_decode(req.headers.find("X-Registry-Config")->second);
  ASSERT_TRUE(rc);
  EXPECT_EQ(Json::parse(*rc), Json::parse(R"({"registry.example:5000":{"username":"user",
      "password":"pw","serveraddress":"registry.example:5000"}})"));
  EXPECT_EQ(tar_names(http_->uploaded[0]), (std::vector<std::string>{"Dockerfile", "app.txt"}));
  // docker's output: the upload's last count, then the daemon's stream.
  EXPECT_TRUE(out_.starts_with("Sending build context to berth daemon ")) << out_;
  EXPECT_NE(out_.find("kB\r\nStep 1/1 : FROM busybox\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("latest: Pulling from library/busybox\n"), std::string::npos) << out_;
  EXPECT_TRUE(out_.ends_with("Successfully built 5f1d8a04b8a1\n")) << out_;
  EXPECT_EQ(out_.find("sha256:"), std::string::npos) << "the aux id is not shown";
  EXPECT_EQ(err_, "");
  std::ifstream in(iid);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, kId);
}

TEST_F(BuildCommandTest, DefaultsAndAnOutsideDockerfile) {
  write(root_ + "/Dockerfile.outside", "FROM scratch\n");
  auto r = run({"-f", root_ + "/Dockerfile.outside", ctx_dir_}, {success_stream()});
  ASSERT_TRUE(r) << r.error().message;
  auto q = query_of(http_->seen[0].target);
  std::map<std::string, std::string> m(q.begin(), q.end());
  EXPECT_TRUE(m.at("dockerfile").starts_with(".dockerfile.")) << m.at("dockerfile");
  EXPECT_EQ(m.at("rm"), "1");
  EXPECT_EQ(m.at("networkmode"), "default");
  EXPECT_EQ(m.at("buildargs"), "{}");
  // Limits go as docker's CLI sends them when unset.
  EXPECT_EQ(m.at("memory"), "0");
  EXPECT_EQ(m.at("memswap"), "0");
  EXPECT_EQ(m.at("cpusetcpus"), "");
  EXPECT_EQ(m.at("ulimits"), "null");
  EXPECT_EQ(m.count("isolation"), 0u);
  EXPECT_EQ(m.count("q") + m.count("nocache") + m.count("pull") + m.count("t"), 0u);
  EXPECT_EQ(http_->seen[0].headers.find("X-Registry-Config")->second, "e30=");
  EXPECT_EQ(
      tar_names(http_->uploaded[0]),
      (std::vector<std::string>{"Dockerfile", "app.txt", m.at("dockerfile"), ".dockerignore"}));
}

TEST_F(BuildCommandTest, CompressSendsAGzippedTar) {
  auto r = run({"--compress", ctx_dir_}, {success_stream()});
  ASSERT_TRUE(r) << r.error().message;
  const std::string& body = http_->uploaded[0];
  ASSERT_GE(body.size(), 2u);
  EXPECT_EQ(body.substr(0, 2), "\x1f\x8b") << "gzip magic";
  EXPECT_EQ(tar_names(body), (std::vector<std::string>{"Dockerfile", "app.txt"}));
}

TEST_F(BuildCommandTest, QuietPrintsOnlyTheId) {
  Scripted quiet{
      200, std::string("{\"stream\":\"") + kId + "\\n\"}\n{\"aux\":{\"ID\":\"" + kId + "\"}}\n"};
  auto r = run({"-q", ctx_dir_}, {quiet});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(out_, std::string(kId) + "\n");
  EXPECT_EQ(err_, "");
  auto q = query_of(http_->seen[0].target);
  EXPECT_NE(std::find(q.begin(), q.end(), std::make_pair(std::string("q"), std::string("1"))),
            q.end());
}

TEST_F(BuildCommandTest, AnErrorMessageEndsTheBuild) {
  Scripted failing{200,
                   "{\"stream\":\"Step 1/2 : RUN exit 3\\n\"}\n"
                   "{\"errorDetail\":{\"code\":3,\"message\":\"The command '/bin/sh -c exit 3' "
                   "returned a non-zero code: 3\"},\"error\":\"The command '/bin/sh -c exit 3' "
                   "returned a non-zero code: 3\"}\n"};
  std::string iid = root_ + "/iid";
  auto r = run({"--iidfile", iid, ctx_dir_}, {failing});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 3) << "docker exits with the error's code";
  EXPECT_EQ(err_, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
  EXPECT_NE(out_.find("Step 1/2 : RUN exit 3\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(iid));

  // Without a code: 1. With -q the held-back output goes to stderr first.
  out_.clear();
  err_.clear();
  Scripted plain{200,
                 "{\"stream\":\"Step 1/1 : FROM nothing\\n\"}\n"
                 "{\"errorDetail\":{\"message\":\"pull access denied\"},\"error\":\"pull access "
                 "denied\"}\n"};
  auto q = run({"-q", ctx_dir_}, {plain});
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, 1);
  EXPECT_EQ(out_, "");
  EXPECT_TRUE(err_.starts_with("Sending build context to berth daemon ")) << err_;
  EXPECT_TRUE(err_.ends_with("Step 1/1 : FROM nothing\npull access denied\n")) << err_;
}

TEST_F(BuildCommandTest, ADaemonErrorAnswerIsTheError) {
  auto r =
      run({ctx_dir_},
          {{500, R"({"message":"dockerfile parse error line 1: unknown instruction: FORM"})"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "Error response from daemon: dockerfile parse error line 1: unknown instruction: FORM");
}

TEST_F(BuildCommandTest, RefusalsBeforeAnythingIsSent) {
  // The error of `berth build ARGS`, which must not have reached the daemon.
  auto refused = [&](const std::vector<std::string>& args) -> Error {
    auto r = run(args, {});
    EXPECT_FALSE(r);
    EXPECT_TRUE(http_ == nullptr || http_->seen.empty());
    return r ? Error{} : r.error();
  };
  Error tag = refused({"-t", "Bad:Tag", ctx_dir_});
  EXPECT_TRUE(is_flag_value_error(tag));
  EXPECT_EQ(tag.message,
            "invalid argument \"Bad:Tag\" for \"-t, --tag\" flag: invalid reference format: "
            "repository name (library/Bad) must be lowercase");
  EXPECT_EQ(refused({"-t", "a b", ctx_dir_}).message,
            "invalid argument \"a b\" for \"-t, --tag\" flag: invalid reference format");
  EXPECT_EQ(refused({"--add-host", "nohost", ctx_dir_}).message,
            "invalid argument \"nohost\" for \"--add-host\" flag: bad format for add-host: "
            "\"nohost\"");
  EXPECT_EQ(refused({"--add-host", "h:notanip", ctx_dir_}).message,
            "invalid argument \"h:notanip\" for \"--add-host\" flag: invalid IP address in "
            "add-host: \"notanip\"");
  EXPECT_TRUE(run({"--add-host", "h:host-gateway", "--add-host", "v6:[::1]", ctx_dir_},
                  {success_stream()}));
  EXPECT_EQ(refused({"https://github.com/x/y.git"}).message,
            "berth build: remote contexts (URL) are not supported");
  EXPECT_EQ(refused({"git@github.com:x/y.git"}).message,
            "berth build: remote contexts (URL) are not supported");
  EXPECT_EQ(refused({"-f", "-", "-"}).message,
            "invalid argument: can't use stdin for both build context and dockerfile");
  EXPECT_EQ(refused({root_ + "/nope"}).message,
            "unable to prepare context: path \"" + root_ + "/nope\" not found");
  EXPECT_EQ(refused({"--squash", ctx_dir_}).message, "unknown flag: --squash");
  EXPECT_EQ(refused({"-m", "lots", ctx_dir_}).message,
            "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'");
  EXPECT_EQ(refused({"--memory-swap", "-2", ctx_dir_}).message,
            "invalid argument \"-2\" for \"--memory-swap\" flag: invalid size: '-2'");
  EXPECT_TRUE(is_flag_value_error(refused({"--ulimit", "nofile", ctx_dir_})));
  EXPECT_TRUE(is_flag_value_error(refused({"--cpu-shares", "many", ctx_dir_})));
}

// Replaces stdin with a file for one call.
class StdinFrom {
 public:
  explicit StdinFrom(const std::string& path) {
    saved_ = ::dup(STDIN_FILENO);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ::dup2(fd, STDIN_FILENO);
    ::close(fd);
  }
  ~StdinFrom() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }

 private:
  int saved_;
};

TEST_F(BuildCommandTest, StdinCarriesATarOrADockerfile) {
  // A tar on stdin is sent as it is.
  std::string tar_path = root_ + "/ctx.tar";
  {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, tar_path.c_str());
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "sub/Dockerfile");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 13);
    archive_write_header(a, e);
    archive_write_data(a, "FROM scratch\n", 13);
    archive_entry_free(e);
    archive_write_free(a);
  }
  std::string tar;
  {
    std::ifstream in(tar_path, std::ios::binary);
    tar.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  {
    StdinFrom s(tar_path);
    auto r = run({"-f", "sub/Dockerfile", "-"}, {success_stream()});
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_TRUE(http_->uploaded[0] == tar);
  auto q = query_of(http_->seen[0].target);
  EXPECT_NE(std::find(q.begin(), q.end(),
                      std::make_pair(std::string("dockerfile"), std::string("sub/Dockerfile"))),
            q.end());

  // Text on stdin is a Dockerfile without context.
  write(root_ + "/Dockerfile.txt", "FROM scratch\nLABEL a=b\n");
  {
    StdinFrom s(root_ + "/Dockerfile.txt");
    auto r = run({"-"}, {success_stream()});
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(tar_names(http_->uploaded[0]), (std::vector<std::string>{"Dockerfile"}));
  {
    StdinFrom s(root_ + "/Dockerfile.txt");
    auto r = run({"-f", "x", "-"}, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "unable to prepare context: ambiguous Dockerfile source: both stdin and flag "
              "correspond to Dockerfiles");
  }
  // -f - with a directory: the Dockerfile from stdin, the context from PATH.
  {
    StdinFrom s(root_ + "/Dockerfile.txt");
    auto r = run({"-f", "-", ctx_dir_}, {success_stream()});
    ASSERT_TRUE(r) << r.error().message;
  }
  auto names = tar_names(http_->uploaded[0]);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_TRUE(names[2].starts_with(".dockerfile."));
}

}  // namespace
}  // namespace berth::cli
