// Settings bodies: every field checked before anything is written, and the
// daemon.json rewrite keeping the keys it does not own.
#include "dashboard/settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"

namespace berth::dashboard {
namespace {

std::string error_of(std::string_view body) {
  auto p = decode_settings_patch(body);
  return p ? "" : p.error().message;
}

TEST(SettingsPatch, DecodesAnySubset) {
  auto p = decode_settings_patch(R"({"autostart": {"enabled": true}})").value();
  EXPECT_EQ(p.autostart_enabled, true);
  EXPECT_FALSE(p.log_opts.has_value());
  EXPECT_FALSE(p.registry_mirrors.has_value());
  p = decode_settings_patch(
          R"({"log_opts": {"max-size": "20m", "max-file": "5"},
              "registry_mirrors": ["https://mirror.example", "http://10.0.0.1:5000/x"]})")
          .value();
  EXPECT_EQ(p.log_opts->at("max-size"), "20m");
  EXPECT_EQ(p.registry_mirrors->size(), 2u);
  // GET's read-only autostart fields may be echoed back.
  p = decode_settings_patch(
          R"({"autostart": {"supported": true, "enabled": false, "state": "enabled", "detail": ""}})")
          .value();
  EXPECT_EQ(p.autostart_enabled, false);
  EXPECT_TRUE(decode_settings_patch("{}").has_value());
}

TEST(SettingsPatch, ErrorsNameTheField) {
  EXPECT_NE(error_of(R"({"autostart": {"enabled": "yes"}})").find("autostart.enabled"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"log_opts": {"compress": "true"}})").find("log_opts.compress"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"log_opts": {"max-file": 3}})").find("log_opts.max-file"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"registry_mirrors": ["https://ok.example", "ftp://x"]})")
                .find("registry_mirrors[1]"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"registry_mirrors": ["https://user@host"]})").find("registry_mirrors[0]"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"registry_mirrors": ["https://host:99999"]})").find("port"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"registry_mirrors": ["https://"]})").find("no host"), std::string::npos);
  EXPECT_NE(error_of(R"({"registry_mirrors": "https://x"})").find("registry_mirrors"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"debug": true})").find("debug"), std::string::npos);
  EXPECT_NE(error_of("[1]"), "");
  EXPECT_NE(error_of("{"), "");
}

TEST(SettingsJson, EncodesTheContractShape) {
  Settings s;
  s.autostart = {true, true, "enabled", ""};
  s.log_opts = {{"max-size", "10m"}};
  s.registry_mirrors = {"https://m.example"};
  auto j = encode_settings(s);
  EXPECT_EQ(j["autostart"]["supported"], true);
  EXPECT_EQ(j["autostart"]["state"], "enabled");
  EXPECT_EQ(j["log_opts"]["max-size"], "10m");
  EXPECT_EQ(j["registry_mirrors"][0], "https://m.example");
  EXPECT_TRUE(encode_settings(Settings{})["log_opts"].is_object());
}

TEST(DaemonJson, MergeKeepsOtherKeys) {
  SettingsPatch p;
  p.log_opts = std::map<std::string, std::string>{{"max-size", "1m"}};
  auto text = merge_daemon_json(R"({"debug": true, "bip": "10.1.0.1/24"})", p).value();
  auto j = Json::parse(text);
  EXPECT_EQ(j["debug"], true);
  EXPECT_EQ(j["bip"], "10.1.0.1/24");
  EXPECT_EQ(j["log-opts"]["max-size"], "1m");
  EXPECT_FALSE(j.contains("registry-mirrors"));
  // Empty values remove the keys.
  SettingsPatch clear;
  clear.log_opts = std::map<std::string, std::string>{};
  clear.registry_mirrors = std::vector<std::string>{};
  j = Json::parse(
      merge_daemon_json(R"({"log-opts": {"max-size": "1m"}, "registry-mirrors": ["x"]})", clear)
          .value());
  EXPECT_EQ(j, Json::object());
  EXPECT_EQ(Json::parse(merge_daemon_json("", p).value())["log-opts"]["max-size"], "1m");
  EXPECT_FALSE(merge_daemon_json("[]", p).has_value());
  EXPECT_FALSE(merge_daemon_json("{oops", p).has_value());
}

TEST(DaemonJson, WriteIsAtomicAndKeepsTheMode) {
  char tmpl[] = "/tmp/berth-dash-settings-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/etc/daemon.json";  // parent created
  SettingsPatch p;
  p.registry_mirrors = std::vector<std::string>{"https://m.example"};
  ASSERT_TRUE(write_daemon_json(path, p).has_value());
  EXPECT_EQ(Json::parse(read_file(path).value())["registry-mirrors"][0], "https://m.example");
  ::chmod(path.c_str(), 0640);
  p.log_opts = std::map<std::string, std::string>{{"max-file", "2"}};
  ASSERT_TRUE(write_daemon_json(path, p).has_value());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // A broken file is not overwritten: the error leaves it as it was.
  std::ofstream(path, std::ios::trunc) << "{broken";
  EXPECT_FALSE(write_daemon_json(path, p).has_value());
  EXPECT_EQ(read_file(path).value(), "{broken");
  // No temp files left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir + "/etc"))
    ++entries;
  EXPECT_EQ(entries, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::dashboard
