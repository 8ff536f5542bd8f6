#include "cli/config_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "base/test_temp_dir.h"

namespace berth::cli {
namespace {

using TempDir = test::TempDir;

TEST(ConfigFile, MissingFileIsEmptyAndRoundTrips) {
  TempDir t;
  std::string dir = t.path() + "/docker";
  auto c = ConfigFile::load(dir);
  ASSERT_TRUE(c) << c.error().message;
  auto none = c->get(kHubAuthKey);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  Credentials hub{"alice", "s3cret:with:colons", "", ""};
  c->set(kHubAuthKey, hub);
  c->set("localhost:5000", Credentials{"bob", "pw", "", ""});
  ASSERT_TRUE(c->save());
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto text = read_file(dir + "/config.json");
  ASSERT_TRUE(text);
  // docker's shape: base64 "auth" under the server key, tab indentation.
  EXPECT_NE(text->find("\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": "
                       "\"YWxpY2U6czNjcmV0OndpdGg6Y29sb25z\""),
            std::string::npos)
      << *text;
  auto again = ConfigFile::load(dir);
  ASSERT_TRUE(again);
  auto got = again->get(kHubAuthKey);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->username, "alice");
  EXPECT_EQ((*got)->password, "s3cret:with:colons");
  auto local = again->get("localhost:5000");
  ASSERT_TRUE(local && *local);
  EXPECT_EQ((*local)->username, "bob");
  EXPECT_TRUE(again->erase("localhost:5000"));
  EXPECT_FALSE(again->erase("localhost:5000"));
}

TEST(ConfigFile, KeepsUnknownKeysAndMatchesSchemes) {
  TempDir t;
  ASSERT_TRUE(write_file_atomic(t.path() + "/config.json",
                                R"({"auths":{"http://reg.example:5000/v2/":{"auth":"dTpw"}},
                                    "psFormat":"table {{.ID}}","currentContext":"default"})"));
  auto c = ConfigFile::load(t.path());
  ASSERT_TRUE(c);
  auto got = c->get("reg.example:5000");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->username, "u");
  EXPECT_EQ((*got)->server, "http://reg.example:5000/v2/");
  c->set("other:1", Credentials{"x", "y", "", ""});
  ASSERT_TRUE(c->save());
  auto again = ConfigFile::load(t.path());
  EXPECT_EQ(again->json()["psFormat"], "table {{.ID}}");
  EXPECT_TRUE(again->json()["auths"].contains("http://reg.example:5000/v2/"));
}

TEST(ConfigFile, BadInputNamesTheFile) {
  TempDir t;
  ASSERT_TRUE(write_file_atomic(t.path() + "/config.json", "{not json"));
  auto c = ConfigFile::load(t.path());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find(t.path() + "/config.json"), std::string::npos);
  ASSERT_TRUE(write_file_atomic(t.path() + "/config.json", R"({"auths":{"h:1":{"auth":"@@@"}}})"));
  auto c2 = ConfigFile::load(t.path());
  ASSERT_TRUE(c2);
  auto g = c2->get("h:1");
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("auths[\"h:1\"].auth"), std::string::npos);
}

TEST(ConfigFile, ServerNamesAndHelpers) {
  EXPECT_EQ(ConfigFile::normalize_server(""), kHubAuthKey);
  EXPECT_EQ(ConfigFile::normalize_server("docker.io"), kHubAuthKey);
  EXPECT_EQ(ConfigFile::normalize_server("index.docker.io"), kHubAuthKey);
  EXPECT_EQ(ConfigFile::normalize_server("https://index.docker.io/v1/"), kHubAuthKey);
  EXPECT_EQ(ConfigFile::normalize_server("https://localhost:5000/v2/"), "localhost:5000");
  EXPECT_EQ(ConfigFile::server_key("docker.io"), kHubAuthKey);
  EXPECT_EQ(ConfigFile::server_key("127.0.0.1:5000"), "127.0.0.1:5000");
  TempDir t;
  ASSERT_TRUE(write_file_atomic(t.path() + "/config.json",
                                R"({"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}})"));
  auto c = ConfigFile::load(t.path());
  EXPECT_EQ(c->helper_for("gcr.io"), "gcloud");
  EXPECT_EQ(c->helper_for("localhost:5000"), "desktop");
}

// The real docker CLI reads what berth writes: `docker --config DIR logout
// SERVER` finds the entry and removes it (skipped when docker is absent).
TEST(ConfigFile, DockerCliReadsBerthsFile) {
  const char* docker = "/usr/local/bin/docker";
  if (::access(docker, X_OK) != 0) GTEST_SKIP() << "no docker CLI at " << docker;
  TempDir t;
  auto c = ConfigFile::load(t.path());
  c->set("localhost:5999", Credentials{"bob", "pw", "", ""});
  c->set(kHubAuthKey, Credentials{"alice", "pw2", "", ""});
  ASSERT_TRUE(c->save());
  std::string cmd = std::string(docker) + " --config " + t.path() + " logout localhost:5999 > " +
                    t.path() + "/out.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto out = read_file(t.path() + "/out.txt");
  EXPECT_NE(out->find("Removing login credentials for localhost:5999"), std::string::npos) << *out;
  auto after = ConfigFile::load(t.path());
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after->get("localhost:5999"));
  auto hub = after->get(kHubAuthKey);
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->password, "pw2");
}

}  // namespace
}  // namespace berth::cli
