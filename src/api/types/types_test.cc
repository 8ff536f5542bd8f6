#include <gtest/gtest.h>

#include "api/types/auth.h"
#include "api/types/events.h"
#include "api/types/filters.h"
#include "api/types/images.h"
#include "api/types/progress.h"
#include "api/types/system.h"
#include "api/types/time.h"
#include "api/types/version.h"

namespace berth::api {
namespace {

TEST(ApiVersion, ParsesAndCompares) {
  auto v = ApiVersion::parse("1.41");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1);
  EXPECT_EQ(v->minor, 41);
  EXPECT_EQ(v->str(), "1.41");
  EXPECT_LT(*v, kMaxApiVersion);
  EXPECT_LT(*ApiVersion::parse("1.9"), *ApiVersion::parse("1.24"));
  EXPECT_FALSE(ApiVersion::parse("1"));
  EXPECT_FALSE(ApiVersion::parse("1.x"));
  EXPECT_FALSE(ApiVersion::parse(""));
  EXPECT_FALSE(ApiVersion::parse("v1.4"));
}

TEST(Time, FormatsLikeGoRfc3339Nano) {
  EXPECT_EQ(format_rfc3339_nano(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000LL * 1000000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000LL * 1000000000 + 500000000), "2023-11-14T22:13:20.5Z");
  EXPECT_EQ(format_rfc3339_nano(1700000000LL * 1000000000 + 123), "2023-11-14T22:13:20.000000123Z");
}

TEST(Time, ParsesDockerTimestamps) {
  const int64_t now = 1700000000LL * 1000000000;
  EXPECT_EQ(*parse_timestamp("1700000000", now, "since"), now);
  EXPECT_EQ(*parse_timestamp("1700000000.25", now, "since"), now + 250000000);
  EXPECT_EQ(*parse_timestamp("10m", now, "since"), now - 600LL * 1000000000);
  EXPECT_EQ(*parse_timestamp("1h30m", now, "since"), now - 5400LL * 1000000000);
  EXPECT_EQ(*parse_timestamp("2023-11-14T22:13:20Z", now, "since"), now);
  EXPECT_EQ(*parse_timestamp("2023-11-14T23:13:20+01:00", now, "since"), now);
  EXPECT_EQ(*parse_timestamp("2023-11-14T22:13:20.5Z", now, "since"), now + 500000000);
  EXPECT_EQ(*parse_timestamp("2023-11-14", now, "since"), (1700000000LL - 80000) * 1000000000);
  auto bad = parse_timestamp("yesterday", now, "until");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_NE(bad.error().message.find("until"), std::string::npos);
  EXPECT_FALSE(parse_timestamp("", now, "since"));
  EXPECT_FALSE(parse_timestamp("12.x", now, "since"));
}

TEST(Filters, ParsesBothWireForms) {
  auto f = Filters::parse(R"({"dangling":{"true":true},"label":{"a=b":true,"c":true}})");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->get("label"), (std::vector<std::string>{"a=b", "c"}));
  EXPECT_EQ(*f->get_bool("dangling").value(), true);
  auto legacy = Filters::parse(R"({"reference":["busybox*","alpine"]})");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->get("reference"), (std::vector<std::string>{"alpine", "busybox*"}));
  EXPECT_TRUE(Filters::parse("")->empty());
  EXPECT_TRUE(Filters::parse("{}")->empty());
  // Round trip.
  auto again = Filters::parse(f->to_json());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get("label"), f->get("label"));
}

TEST(Filters, ErrorsNameTheProblem) {
  auto bad = Filters::parse("{not json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("filters"), std::string::npos);
  auto bad_val = Filters::parse(R"({"label":"x"})");
  ASSERT_FALSE(bad_val);
  EXPECT_NE(bad_val.error().message.find("filters.label"), std::string::npos);
  auto bad_flag = Filters::parse(R"({"label":{"x":1}})");
  ASSERT_FALSE(bad_flag);
  EXPECT_NE(bad_flag.error().message.find("filters.label.x"), std::string::npos);
  EXPECT_FALSE(Filters::parse("[]"));
  auto f = Filters::parse(R"({"colour":{"red":true}})");
  ASSERT_TRUE(f);
  auto v = f->validate({"label", "dangling"});
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "invalid filter 'colour'");
  auto d = Filters::parse(R"({"dangling":{"maybe":true}})");
  ASSERT_TRUE(d);
  auto b = d->get_bool("dangling");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("dangling=maybe"), std::string::npos);
}

TEST(Auth, DecodesUrlSafeAndStandardBase64) {
  // {"username":"u","password":"p?>","serveraddress":"localhost:5000"}
  std::string json = R"({"username":"u","password":"p?>","serveraddress":"localhost:5000"})";
  // Standard base64 of json, computed with python's base64.b64encode.
  std::string std_b64 =
      "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InA/PiIsInNlcnZlcmFkZHJlc3MiOiJsb2NhbGhvc3Q6NTAwMCJ9";
  std::string url_b64 = std_b64;
  for (auto& c : url_b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  for (const auto& enc : {std_b64, url_b64}) {
    auto a = decode_registry_auth(enc);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->username, "u");
    EXPECT_EQ(a->password, "p?>");
    EXPECT_EQ(a->server_address, "localhost:5000");
  }
  // Without padding ("{}" -> "e30=").
  EXPECT_TRUE(decode_registry_auth("e30"));
  EXPECT_TRUE(decode_registry_auth("e30="));
  EXPECT_TRUE(decode_registry_auth("")->username.empty());
}

TEST(Auth, AuthFieldAndErrors) {
  // "auth": base64("alice:s3cret")
  auto a = decode_auth_config_json(R"({"auth":"YWxpY2U6czNjcmV0","identitytoken":"tok"})", "body");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->username, "alice");
  EXPECT_EQ(a->password, "s3cret");
  EXPECT_EQ(a->identity_token, "tok");
  auto bad = decode_auth_config_json(R"({"username":5})", "body");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("username"), std::string::npos);
  auto badh = decode_registry_auth("!!!!");
  ASSERT_FALSE(badh);
  EXPECT_NE(badh.error().message.find("X-Registry-Auth"), std::string::npos);
  // base64 of "not json"
  auto badj = decode_registry_auth("bm90IGpzb24=");
  ASSERT_FALSE(badj);
  EXPECT_EQ(badj.error().code, Errc::InvalidArgument);
}

TEST(Images, SummaryFollowsApiVersion) {
  ImageSummary s;
  s.id = "sha256:abc";
  s.created = 5;
  s.size = 100;
  s.labels = {{"a", "b"}};
  Json now = encode_image_summary(s, {1, 47});
  EXPECT_EQ(now["Id"], "sha256:abc");
  EXPECT_TRUE(now["RepoTags"].is_array());
  EXPECT_TRUE(now["RepoTags"].empty());
  EXPECT_FALSE(now.contains("VirtualSize"));
  EXPECT_EQ(now["Labels"]["a"], "b");
  EXPECT_EQ(now["Containers"], -1);
  Json old = encode_image_summary(s, {1, 41});
  EXPECT_EQ(old["VirtualSize"], 100);
  EXPECT_EQ(old["RepoTags"][0], "<none>:<none>");
  EXPECT_EQ(old["RepoDigests"][0], "<none>@<none>");
  EXPECT_EQ(old["SharedSize"], -1);
  // A tagged image without a digest is not dangling: no placeholder.
  s.repo_tags = {"busybox:latest"};
  old = encode_image_summary(s, {1, 41});
  EXPECT_EQ(old["RepoTags"], Json::array({"busybox:latest"}));
  EXPECT_TRUE(old["RepoDigests"].is_null());
  now = encode_image_summary(s, {1, 47});
  EXPECT_EQ(now["RepoDigests"], Json::array());
}

TEST(Images, InspectFields) {
  ImageInspect i;
  i.id = "sha256:abc";
  i.repo_tags = {"busybox:latest"};
  i.created = "2024-01-01T00:00:00Z";
  i.config = Json{{"Cmd", {"sh"}}};
  i.architecture = "amd64";
  i.os = "linux";
  i.size = 7;
  i.graph_driver = "overlayfs";
  i.layers = {"sha256:l1"};
  Json j = encode_image_inspect(i, {1, 47});
  EXPECT_EQ(j["Config"]["Cmd"][0], "sh");
  EXPECT_EQ(j["RootFS"]["Type"], "layers");
  EXPECT_EQ(j["RootFS"]["Layers"][0], "sha256:l1");
  EXPECT_EQ(j["GraphDriver"]["Name"], "overlayfs");
  EXPECT_EQ(j["Metadata"]["LastTagTime"], "0001-01-01T00:00:00Z");
  EXPECT_FALSE(j.contains("VirtualSize"));
  // Kept past API 1.45 for docker-compose v1, which reads it at the newest version.
  EXPECT_EQ(j["Container"], "");
  EXPECT_EQ(j["ContainerConfig"], i.config);  // no container_config: the image's Config
  EXPECT_FALSE(j.contains("Variant"));
  Json old = encode_image_inspect(i, {1, 43});
  EXPECT_EQ(old["VirtualSize"], 7);
  EXPECT_TRUE(old["ContainerConfig"].is_object());
  i.container_config = Json{{"Cmd", {"/bin/sh", "-c", "#(nop) CMD [\"sh\"]"}}};
  EXPECT_EQ(encode_image_inspect(i, {1, 47})["ContainerConfig"], i.container_config);
  i.config = nullptr;
  i.container_config = nullptr;
  EXPECT_EQ(encode_image_inspect(i, {1, 47})["ContainerConfig"], Json::object());
}

TEST(Images, HistoryDeletePruneSearch) {
  Json h = encode_history({{"sha256:x", 3, "/bin/sh -c #(nop) CMD", {"a:b"}, 5, ""},
                           {"<missing>", 2, "ADD", {}, 9, "c"}});
  EXPECT_EQ(h[0]["Tags"][0], "a:b");
  EXPECT_TRUE(h[1]["Tags"].is_null());
  EXPECT_EQ(h[1]["Comment"], "c");
  Json d = encode_delete_items({{"busybox:latest", ""}, {"", "sha256:x"}});
  EXPECT_EQ(d[0]["Untagged"], "busybox:latest");
  EXPECT_FALSE(d[0].contains("Deleted"));
  EXPECT_EQ(d[1]["Deleted"], "sha256:x");
  Json p = encode_prune_report({}, 0);
  EXPECT_TRUE(p["ImagesDeleted"].is_null());
  Json s = encode_search_results({{"busybox", "tiny", 3, true, false}});
  EXPECT_EQ(s[0]["star_count"], 3);
  EXPECT_EQ(s[0]["is_official"], true);
}

TEST(System, VersionInfoAndDf) {
  VersionInfo v;
  v.version = "0.1.0";
  v.arch = "amd64";
  Json j = encode_version(v);
  EXPECT_EQ(j["ApiVersion"], "1.47");
  EXPECT_EQ(j["MinAPIVersion"], "1.24");
  EXPECT_EQ(j["Components"][0]["Name"], "Engine");
  SystemInfo i;
  i.cgroup_version = "2";
  i.registry.mirrors = {{"docker.io", {"https://m.example"}}, {"quay.io", {"http://q"}}};
  i.registry.insecure_hosts = {"quay.io"};
  i.runtimes["crun"] = "/usr/bin/crun";
  i.default_runtime = "crun";
  Json info = encode_info(i, {1, 47});
  EXPECT_EQ(info["CgroupVersion"], "2");
  EXPECT_EQ(info["DefaultRuntime"], "crun");
  EXPECT_EQ(info["Runtimes"], Json::parse(R"({"berth":{"path":"berth-runtime"},
                                               "crun":{"path":"/usr/bin/crun"}})"));
  EXPECT_EQ(info["RegistryConfig"]["Mirrors"][0], "https://m.example");
  EXPECT_EQ(info["RegistryConfig"]["IndexConfigs"]["quay.io"]["Secure"], false);
  EXPECT_EQ(info["RegistryConfig"]["MirrorsByHost"]["quay.io"][0], "http://q");
  EXPECT_EQ(info["LiveRestoreEnabled"], true);  // containers always outlive berthd
  DiskUsage d;
  d.layers_size = 10;
  d.images.push_back({});
  Json df = encode_disk_usage(d, {1, 47});
  EXPECT_EQ(df["LayersSize"], 10);
  EXPECT_EQ(df["Images"].size(), 1u);
  EXPECT_TRUE(df["Volumes"].is_array());
  EXPECT_FALSE(df.contains("BuilderSize"));
  EXPECT_EQ(encode_disk_usage(d, {1, 41})["BuilderSize"], 0);  // gone in 1.42
  EXPECT_EQ(error_body("No such image: x"), R"({"message":"No such image: x"})");
}

TEST(Events, CurrentAndLegacyFields) {
  EventMessage e{
      "image", "pull", "busybox:latest", {{"name", "busybox"}}, "local", 1700000000123456789LL};
  Json j = encode_event(e, {1, 47});
  EXPECT_EQ(j["Type"], "image");
  EXPECT_EQ(j["Action"], "pull");
  EXPECT_EQ(j["Actor"]["ID"], "busybox:latest");
  EXPECT_EQ(j["Actor"]["Attributes"]["name"], "busybox");
  EXPECT_EQ(j["status"], "pull");
  EXPECT_EQ(j["id"], "busybox:latest");
  EXPECT_EQ(j["time"], 1700000000);
  EXPECT_EQ(j["timeNano"], 1700000000123456789LL);
  EXPECT_EQ(j["scope"], "local");
}

TEST(Progress, Lines) {
  std::string l = encode_progress_line({"a1b2", "Downloading", 500, 1000});
  auto j = Json::parse(l);
  EXPECT_EQ(l.back(), '\n');
  EXPECT_EQ(j["id"], "a1b2");
  EXPECT_EQ(j["progressDetail"]["current"], 500);
  EXPECT_EQ(j["progressDetail"]["total"], 1000);
  EXPECT_NE(j["progress"].get<std::string>().find("500B/1kB"), std::string::npos);
  auto plain = Json::parse(encode_progress_line({"", "Status: Downloaded newer image", -1, -1}));
  EXPECT_FALSE(plain.contains("id"));
  EXPECT_TRUE(plain["progressDetail"].empty());
  auto e = Json::parse(encode_error_line("boom"));
  EXPECT_EQ(e["errorDetail"]["message"], "boom");
  EXPECT_EQ(e["error"], "boom");
  EXPECT_EQ(Json::parse(encode_stream_line("Loaded image: x\n"))["stream"], "Loaded image: x\n");
  EXPECT_EQ(human_size(1234567), "1.23MB");
  EXPECT_EQ(human_size(999), "999B");
}

}  // namespace
}  // namespace berth::api
