// The build context as `berth build` sends it: .dockerignore applied (with
// the Dockerfile and .dockerignore always sent), links kept as links, owners
// 0:0, a Dockerfile from outside the context under a random name that
// .dockerignore hides, and the --build-arg / --label values.
#include "cli/build_context.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "cli/run_flags.h"

namespace berth::cli {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string path;
  mode_t type = 0;
  mode_t perm = 0;
  std::string symlink, hardlink, data;
  int64_t uid = -1, gid = -1, mtime = 0;
};

std::vector<Entry> read_tar(const std::string& tar) {
  std::vector<Entry> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Entry x;
    x.path = archive_entry_pathname(e);
    x.type = archive_entry_filetype(e);
    x.perm = archive_entry_perm(e);
    if (const char* s = archive_entry_symlink(e)) x.symlink = s;
    if (const char* h = archive_entry_hardlink(e)) x.hardlink = h;
    x.uid = archive_entry_uid(e);
    x.gid = archive_entry_gid(e);
    x.mtime = archive_entry_mtime(e);
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      x.data.append(buf, static_cast<size_t>(n));
    out.push_back(std::move(x));
  }
  archive_read_free(a);
  return out;
}

struct Drained {
  std::string tar;
  size_t pieces = 0;
  size_t largest = 0;
};

Drained drain(ContextTar& t) {
  Drained d;
  while (true) {
    auto piece = t.next();
    EXPECT_TRUE(piece) << (piece ? "" : piece.error().message);
    if (!piece || piece->empty()) break;
    d.pieces++;
    d.largest = std::max(d.largest, piece->size());
    d.tar += *piece;
  }
  return d;
}

std::vector<std::string> names(const std::vector<Entry>& es) {
  std::vector<std::string> n;
  for (const auto& e : es) n.push_back(e.path);
  return n;
}

const Entry* find(const std::vector<Entry>& es, const std::string& path) {
  for (const auto& e : es)
    if (e.path == path) return &e;
  return nullptr;
}

class BuildContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-build-ctx-XXXXXX";
    root_ = ::mkdtemp(t);
    dir_ = root_ + "/ctx";
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }
  void write(const std::string& rel, const std::string& content, const std::string& base = "") {
    std::string p = (base.empty() ? dir_ : base) + "/" + rel;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  // The tar of the context as prepared for `berth build dir_ [-f file]`.
  Result<PreparedContext> prepare(const std::string& file = "",
                                  std::optional<std::string> text = std::nullopt) {
    auto lc = resolve_local_context(dir_, file);
    if (!lc) return lc.error();
    return prepare_dir_context(*lc, std::move(text));
  }
  std::string root_, dir_;
};

TEST_F(BuildContextTest, DockerignoreExclusionsAndExceptions) {
  write("Dockerfile", "FROM scratch\n");
  write("a.txt", "a");
  write("b.log", "b");
  write("logs/x.log", "x");
  write("logs/keep.log", "keep");
  write("src/main.c", "int main;");
  write("src/gen/out.o", "obj");
  write("node_modules/m/index.js", "js");
  write(".git/HEAD", "ref");
  write(".dockerignore",
        "# build outputs\n*.log\nlogs\n!logs/keep.log\nnode_modules\n.git\n**/*.o\n");
  auto p = prepare();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->dockerfile, "Dockerfile");
  std::vector<std::string> want = {".dockerignore", "Dockerfile", "a.txt",     "logs/keep.log",
                                   "src",           "src/gen",    "src/main.c"};
  EXPECT_EQ(p->tar->paths(), want);
  auto entries = read_tar(drain(*p->tar).tar);
  // A directory entry carries libarchive's trailing '/'.
  std::vector<std::string> sent = {".dockerignore", "Dockerfile", "a.txt",     "logs/keep.log",
                                   "src/",          "src/gen/",   "src/main.c"};
  EXPECT_EQ(names(entries), sent);
  ASSERT_NE(find(entries, "logs/keep.log"), nullptr);
  EXPECT_EQ(find(entries, "logs/keep.log")->data, "keep");
}

TEST_F(BuildContextTest, DockerfileAndDockerignoreAreSentEvenWhenIgnored) {
  write("Dockerfile", "FROM scratch\n");
  write("other.txt", "x");
  write(".dockerignore", "Dockerfile\n.dockerignore\n*\n");
  auto p = prepare();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->tar->paths(), (std::vector<std::string>{".dockerignore", "Dockerfile"}));

  // -f naming a file in an excluded directory: the file is sent, not the rest.
  write("docker/Dockerfile.dev", "FROM busybox\n");
  write("docker/secret", "s");
  write(".dockerignore", "docker\n");
  auto q = prepare(dir_ + "/docker/Dockerfile.dev");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->dockerfile, "docker/Dockerfile.dev");
  EXPECT_EQ(q->tar->paths(), (std::vector<std::string>{".dockerignore", "Dockerfile",
                                                       "docker/Dockerfile.dev", "other.txt"}));
  auto entries = read_tar(drain(*q->tar).tar);
  ASSERT_NE(find(entries, "docker/Dockerfile.dev"), nullptr);
  EXPECT_EQ(find(entries, "docker/Dockerfile.dev")->data, "FROM busybox\n");
  // The .dockerignore of an in-context Dockerfile is sent unchanged.
  EXPECT_EQ(find(entries, ".dockerignore")->data, "docker\n");
}

TEST_F(BuildContextTest, SymlinksAreSentAsLinksWithModesTimesAndRootOwners) {
  write("Dockerfile", "FROM scratch\n");
  write("real/file.txt", "content");
  ASSERT_EQ(::chmod((dir_ + "/real/file.txt").c_str(), 0751), 0);
  ASSERT_EQ(::symlink("real/file.txt", (dir_ + "/link").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent/target", (dir_ + "/dangling").c_str()), 0);
  ASSERT_EQ(::symlink("real", (dir_ + "/dirlink").c_str()), 0);
  struct timespec ts[2] = {{1500000000, 0}, {1500000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ + "/real/file.txt").c_str(), ts, 0), 0);
  auto p = prepare();
  ASSERT_TRUE(p) << p.error().message;
  auto entries = read_tar(drain(*p->tar).tar);
  EXPECT_EQ(names(entries), (std::vector<std::string>{"Dockerfile", "dangling", "dirlink", "link",
                                                      "real/", "real/file.txt"}))
      << "a symlinked directory is not followed";
  const Entry* link = find(entries, "link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, AE_IFLNK);
  EXPECT_EQ(link->symlink, "real/file.txt");
  EXPECT_EQ(find(entries, "dangling")->symlink, "/nonexistent/target");
  EXPECT_EQ(find(entries, "dirlink")->type, AE_IFLNK);
  const Entry* file = find(entries, "real/file.txt");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->type, AE_IFREG);
  EXPECT_EQ(file->perm, 0751u);
  EXPECT_EQ(file->mtime, 1500000000);
  EXPECT_EQ(file->data, "content");
  for (const auto& e : entries) {
    EXPECT_EQ(e.uid, 0) << e.path;
    EXPECT_EQ(e.gid, 0) << e.path;
    EXPECT_NE(e.path.substr(0, 2), "./") << e.path;
  }
}

TEST_F(BuildContextTest, HardLinksAreSentOnce) {
  write("Dockerfile", "FROM scratch\n");
  write("a", "shared");
  ASSERT_EQ(::link((dir_ + "/a").c_str(), (dir_ + "/b").c_str()), 0);
  auto p = prepare();
  ASSERT_TRUE(p);
  auto entries = read_tar(drain(*p->tar).tar);
  ASSERT_NE(find(entries, "b"), nullptr);
  EXPECT_EQ(find(entries, "a")->data, "shared");
  EXPECT_EQ(find(entries, "b")->hardlink, "a");
}

TEST_F(BuildContextTest, DockerfileOutsideTheContextGetsARandomNameThatDockerignoreHides) {
  write("app.py", "print(1)\n");
  write("elsewhere/Dockerfile.out", "FROM scratch\nCOPY . /\n", root_);
  auto lc = resolve_local_context(dir_, root_ + "/elsewhere/Dockerfile.out");
  ASSERT_TRUE(lc) << lc.error().message;
  EXPECT_EQ(lc->dockerfile, "../elsewhere/Dockerfile.out");
  EXPECT_TRUE(lc->dockerfile_outside());
  auto p = prepare_dir_context(*lc, std::string("FROM scratch\nCOPY . /\n"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(std::regex_match(p->dockerfile, std::regex(R"(\.dockerfile\.[0-9a-f]{20})")))
      << p->dockerfile;
  auto entries = read_tar(drain(*p->tar).tar);
  EXPECT_EQ(names(entries), (std::vector<std::string>{"app.py", p->dockerfile, ".dockerignore"}));
  const Entry* df = find(entries, p->dockerfile);
  EXPECT_EQ(df->data, "FROM scratch\nCOPY . /\n");
  EXPECT_EQ(df->perm, 0600u);
  EXPECT_EQ(find(entries, ".dockerignore")->data, ".dockerignore\n" + p->dockerfile + "\n");

  // An existing .dockerignore keeps its place and content, plus the name.
  write(".dockerignore", "*.pyc");
  auto q =
      prepare_dir_context(*lc, std::string("FROM scratch\n"), ".dockerfile.0123456789abcdef0123");
  ASSERT_TRUE(q);
  auto e2 = read_tar(drain(*q->tar).tar);
  EXPECT_EQ(names(e2), (std::vector<std::string>{".dockerignore", "app.py",
                                                 ".dockerfile.0123456789abcdef0123"}));
  EXPECT_EQ(e2[0].data, "*.pyc\n.dockerfile.0123456789abcdef0123\n");
  EXPECT_NE(random_dockerfile_name(), random_dockerfile_name());
}

TEST_F(BuildContextTest, DockerfileFromStdinIsAddedLikeAnOutsideOne) {
  write("Dockerfile", "FROM not-this-one\n");
  auto lc = resolve_local_context(dir_, "-");
  ASSERT_TRUE(lc);
  EXPECT_EQ(lc->dockerfile, "-");
  auto p = prepare_dir_context(*lc, std::string("FROM scratch\n"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->dockerfile.starts_with(".dockerfile."));
  auto entries = read_tar(drain(*p->tar).tar);
  EXPECT_EQ(names(entries),
            (std::vector<std::string>{"Dockerfile", p->dockerfile, ".dockerignore"}));
  EXPECT_EQ(find(entries, p->dockerfile)->data, "FROM scratch\n");
}

TEST_F(BuildContextTest, ResolvesTheDockerfileLikeDocker) {
  // Missing context, a file as context, a missing Dockerfile.
  auto missing = resolve_local_context(root_ + "/nope", "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "path \"" + root_ + "/nope\" not found");
  write("file", "x");
  auto notdir = resolve_local_context(dir_ + "/file", "");
  ASSERT_FALSE(notdir);
  EXPECT_EQ(notdir.error().message, "context must be a directory: " + dir_ + "/file");
  auto nodf = resolve_local_context(dir_, "");
  ASSERT_FALSE(nodf);
  EXPECT_EQ(nodf.error().message, "unable to evaluate symlinks in Dockerfile path: lstat " + dir_ +
                                      "/Dockerfile: no such file or directory");
  // A lowercase dockerfile is taken when there is no Dockerfile.
  write("dockerfile", "FROM scratch\n");
  auto lower = resolve_local_context(dir_, "");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->dockerfile, "dockerfile");
  // -f is relative to the current directory, not to the context.
  write("sub/Dockerfile.x", "FROM scratch\n");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  auto rel = resolve_local_context(".", "sub/Dockerfile.x");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(rel) << rel.error().message;
  EXPECT_EQ(rel->dir, fs::canonical(dir_).string());
  EXPECT_EQ(rel->dockerfile, "sub/Dockerfile.x");
  EXPECT_FALSE(rel->dockerfile_outside());
}

TEST_F(BuildContextTest, UnreadableFileFailsTheCheckButAnIgnoredOneDoesNot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  write("Dockerfile", "FROM scratch\n");
  write("secret", "s");
  ASSERT_EQ(::chmod((dir_ + "/secret").c_str(), 0), 0);
  auto p = prepare();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "error checking context: no permission to read from '" + dir_ + "/secret'");
  write(".dockerignore", "secret\n");
  EXPECT_TRUE(prepare());
  fs::create_directories(dir_ + "/locked");
  ASSERT_EQ(::chmod((dir_ + "/locked").c_str(), 0), 0);
  auto q = prepare();
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message, "error checking context: can't stat '" + dir_ + "/locked'");
  ::chmod((dir_ + "/locked").c_str(), 0700);
}

TEST_F(BuildContextTest, LargeFilesAreStreamedInPieces) {
  write("Dockerfile", "FROM scratch\n");
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 31 % 251);
  write("big.bin", big);
  auto p = prepare();
  ASSERT_TRUE(p);
  Drained d = drain(*p->tar);
  EXPECT_GT(d.pieces, 3u);
  EXPECT_LT(d.largest, 2u * 1024 * 1024);
  EXPECT_EQ(p->tar->bytes_out(), d.tar.size());
  EXPECT_EQ(d.tar.size() % 512, 0u);
  auto entries = read_tar(d.tar);
  ASSERT_NE(find(entries, "big.bin"), nullptr);
  EXPECT_TRUE(find(entries, "big.bin")->data == big);
  // Finished streams stay finished.
  auto again = p->tar->next();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST(BuildContext, TellsATarFromADockerfile) {
  ContextTarOptions o;
  o.extra.push_back(ExtraFile{"Dockerfile", "FROM scratch\n", 0644, 0});
  auto t = ContextTar::create(std::move(o));
  ASSERT_TRUE(t);
  std::string tar = drain(**t).tar;
  EXPECT_TRUE(looks_like_archive(std::string_view(tar).substr(0, 1024)));
  EXPECT_FALSE(looks_like_archive("FROM busybox\nRUN true\n"));
  EXPECT_FALSE(looks_like_archive(std::string(1024, 'x')));
  EXPECT_TRUE(looks_like_archive("\x1f\x8b\x08\x00rest"));
  EXPECT_TRUE(looks_like_archive(std::string("\x28\xb5\x2f\xfd", 4)));
  std::string corrupt = tar.substr(0, 1024);
  corrupt[0] ^= 1;
  EXPECT_FALSE(looks_like_archive(corrupt));
}

TEST(BuildFlags, BuildArgs) {
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "FROM_ENV") return std::string("env value");
    if (k == "EMPTY") return std::string();
    return std::nullopt;
  };
  auto a = parse_build_args({"A=1", "B=", "C=x=y", "FROM_ENV", "EMPTY", "UNSET", "A=2"}, env);
  ASSERT_TRUE(a) << a.error().message;
  std::map<std::string, std::string> want = {
      {"A", "2"}, {"B", ""}, {"C", "x=y"}, {"FROM_ENV", "env value"}, {"EMPTY", ""}};
  EXPECT_EQ(*a, want);
  // A later "K" whose variable is unset drops an earlier value, as docker's
  // null does.
  auto b = parse_build_args({"K=1", "UNSET"}, env);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->count("K"), 1u);
  auto c = parse_build_args({"K=1", "K"}, env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->count("K"), 0u);
  auto bad = parse_build_args({"=v"}, env);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is_flag_value_error(bad.error()));
  EXPECT_EQ(bad.error().message,
            "invalid argument \"=v\" for \"--build-arg\" flag: invalid environment variable: =v");
}

TEST(BuildFlags, Labels) {
  auto l = parse_build_labels({"a=b", "flag", "  spaced=v v", "e=x=y"});
  ASSERT_TRUE(l) << l.error().message;
  std::map<std::string, std::string> want = {
      {"a", "b"}, {"flag", ""}, {"spaced", "v v"}, {"e", "x=y"}};
  EXPECT_EQ(*l, want);
  auto empty = parse_build_labels({"=x"});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message,
            "invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name");
  auto space = parse_build_labels({"a b=c"});
  ASSERT_FALSE(space);
  EXPECT_EQ(space.error().message,
            "invalid argument \"a b=c\" for \"--label\" flag: label 'a b' contains whitespaces");
}

TEST(BuildFlags, ProxiesFromTheConfigFile) {
  Json cfg = Json::parse(R"({"proxies":{
      "default":{"httpProxy":"http://proxy:3128","noProxy":"localhost"},
      "tcp://other:2375":{"httpProxy":"http://other-proxy"}}})");
  std::map<std::string, std::string> args = {{"HTTP_PROXY", "mine"}};
  add_proxy_build_args(cfg, "unix:///run/berth/berth.sock", args);
  std::map<std::string, std::string> want = {{"HTTP_PROXY", "mine"},
                                             {"http_proxy", "http://proxy:3128"},
                                             {"NO_PROXY", "localhost"},
                                             {"no_proxy", "localhost"}};
  EXPECT_EQ(args, want);
  std::map<std::string, std::string> other;
  add_proxy_build_args(cfg, "tcp://other:2375", other);
  EXPECT_EQ(other.at("HTTP_PROXY"), "http://other-proxy");
  std::map<std::string, std::string> none;
  add_proxy_build_args(Json::object(), "x", none);
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace berth::cli
