// Static file resolution: routing, content types, gzip negotiation, and
// every way out of the directory (.., symlinks) being refused.
#include "dashboard/static_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace berth::dashboard {
namespace {

namespace fs = std::filesystem;

void put(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-dash-static-XXXXXX";
    base_ = ::mkdtemp(tmpl);
    dir_ = base_ + "/dist";
    put(dir_ + "/index.html", "<html>index</html>");
    put(dir_ + "/assets/app-1a2b.js", "console.log(1)");
    put(dir_ + "/assets/app-1a2b.js.gz", "GZIPPED-JS");
    put(dir_ + "/assets/style-9f.css", "body{}");
    put(dir_ + "/favicon.svg", "<svg/>");
    put(dir_ + "/only.txt.gz", "lone gz");
    put(base_ + "/secret.txt", "TOP SECRET");
    fs::create_symlink(base_ + "/secret.txt", dir_ + "/abs-link.txt");
    fs::create_symlink("../secret.txt", dir_ + "/rel-link.txt");
    fs::create_symlink("../../secret.txt", dir_ + "/assets/up.js");
    fs::create_directories(dir_ + "/sub");
  }
  void TearDown() override { fs::remove_all(base_); }
  StaticFiles files() { return std::move(StaticFiles::open(dir_).value()); }
  std::string base_, dir_;
};

TEST_F(StaticFilesTest, RootAndFilesWithTheirTypesAndCaching) {
  auto f = files();
  auto idx = f.lookup("/", false).value();
  EXPECT_EQ(idx.body, "<html>index</html>");
  EXPECT_EQ(idx.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(idx.cache_control, "no-cache");
  auto js = f.lookup("/assets/app-1a2b.js", false).value();
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js.cache_control.find("immutable"), std::string::npos);
  EXPECT_FALSE(js.gzip);
  EXPECT_EQ(f.lookup("/assets/style-9f.css", false)->content_type, "text/css; charset=utf-8");
  auto svg = f.lookup("/favicon.svg", false).value();
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(svg.cache_control, "no-cache");
}

TEST_F(StaticFilesTest, PrecompressedSiblingOnlyWhenAccepted) {
  auto f = files();
  auto gz = f.lookup("/assets/app-1a2b.js", true).value();
  EXPECT_TRUE(gz.gzip);
  EXPECT_EQ(gz.body, "GZIPPED-JS");
  EXPECT_EQ(gz.content_type, "text/javascript; charset=utf-8");  // of the original
  // No .gz sibling: the plain file.
  auto css = f.lookup("/assets/style-9f.css", true).value();
  EXPECT_FALSE(css.gzip);
  // A .gz without its plain file is not published under the plain name.
  EXPECT_EQ(f.lookup("/only.txt", true).error().code, Errc::NotFound);
}

TEST_F(StaticFilesTest, ClientRoutesFallBackToIndexOthersAre404) {
  auto f = files();
  EXPECT_EQ(f.lookup("/containers/abc123", false)->body, "<html>index</html>");
  EXPECT_EQ(f.lookup("/images", false)->body, "<html>index</html>");
  EXPECT_EQ(f.lookup("/sub", false)->body, "<html>index</html>");  // a directory is no file
  EXPECT_EQ(f.lookup("/missing.js", false).error().code, Errc::NotFound);
  EXPECT_EQ(f.lookup("/assets/missing", false).error().code, Errc::NotFound);
  EXPECT_EQ(f.lookup("/assets/app-1a2b.js/x", false).error().code, Errc::NotFound);
}

TEST_F(StaticFilesTest, TraversalAndSymlinkEscapesAreRefused) {
  auto f = files();
  // What the http server hands over after percent-decoding "/%2e%2e/...".
  for (const char* p : {"/../secret.txt", "/assets/../../secret.txt", "/./index.html", "/.."})
    EXPECT_EQ(f.lookup(p, false).error().code, Errc::InvalidArgument) << p;
  EXPECT_EQ(f.lookup(std::string_view("/index.html\0x", 13), false).error().code,
            Errc::InvalidArgument);
  // Symlinks resolve inside the directory (openat2 RESOLVE_IN_ROOT): the
  // secret one level up is never read.
  for (const char* p : {"/abs-link.txt", "/rel-link.txt", "/assets/up.js"}) {
    auto r = f.lookup(p, false);
    EXPECT_FALSE(r.has_value()) << p << " served " << r->body;
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::NotFound) << p;
    }
  }
}

TEST_F(StaticFilesTest, OpenNeedsAnIndex) {
  EXPECT_EQ(StaticFiles::open(base_ + "/nope").error().code, Errc::NotFound);
  EXPECT_EQ(StaticFiles::open(dir_ + "/assets").error().code, Errc::NotFound);
}

TEST(ContentTypes, ByExtension) {
  EXPECT_EQ(content_type_for("a.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("x.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("x.png"), "image/png");
  EXPECT_EQ(content_type_for("x.json"), "application/json");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
}

TEST(AcceptEncoding, GzipNegotiation) {
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("x-gzip-ish"));
}

TEST(FindDashboardDir, SearchOrder) {
  char tmpl[] = "/tmp/berth-dash-find-XXXXXX";
  std::string base = ::mkdtemp(tmpl);
  // Build tree: <b>/cmd/berthd/berthd and <b>/dashboard/dist.
  std::string exe_dir = base + "/build/cmd/berthd";
  fs::create_directories(exe_dir);
  EXPECT_FALSE(find_dashboard_dir("", "", exe_dir).has_value());
  put(base + "/build/dashboard/dist/index.html", "x");
  EXPECT_EQ(find_dashboard_dir("", "", exe_dir).value(),
            fs::canonical(base + "/build/dashboard/dist").string());
  // Installed layout wins over the build tree.
  put(base + "/build/cmd/share/berth/dashboard/index.html", "x");
  EXPECT_EQ(find_dashboard_dir("", "", exe_dir).value(),
            fs::canonical(base + "/build/cmd/share/berth/dashboard").string());
  // $BERTH_DASHBOARD_DIR wins over both; an explicit dir is the only one looked at.
  put(base + "/env/index.html", "x");
  EXPECT_EQ(find_dashboard_dir("", base + "/env", exe_dir).value(),
            fs::canonical(base + "/env").string());
  EXPECT_FALSE(find_dashboard_dir(base + "/missing", base + "/env", exe_dir).has_value());
  EXPECT_EQ(find_dashboard_dir(base + "/env", "", "").value(), base + "/env");
  fs::remove_all(base);
}

}  // namespace
}  // namespace berth::dashboard
