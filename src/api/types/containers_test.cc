#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "api/types/container_config.h"
#include "api/types/containers.h"

namespace berth::api {
namespace {

constexpr int64_t kSec = 1000000000;

TEST(ContainerStatus, DockersPsTexts) {
  const int64_t now = 1700000000 * kSec;
  ContainerState s;
  EXPECT_EQ(state_status_text(s, now), "Created");
  s.status = "running";
  s.started_ns = now - 5 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Up 5 seconds");
  s.started_ns = now - 500000000;
  EXPECT_EQ(state_status_text(s, now), "Up Less than a second");
  s.started_ns = now - 1 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Up 1 second");
  s.started_ns = now - 130 * kSec;
  s.health_status = "healthy";
  EXPECT_EQ(state_status_text(s, now), "Up 2 minutes (healthy)");
  s.health_status = "starting";
  EXPECT_EQ(state_status_text(s, now), "Up 2 minutes (health: starting)");
  s.health_status.clear();
  s.status = "paused";
  s.started_ns = now - 3 * 60 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Up 3 minutes (Paused)");
  s.status = "restarting";
  s.exit_code = 1;
  s.finished_ns = now - 2 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Restarting (1) 2 seconds ago");
  s.status = "exited";
  s.exit_code = 0;
  s.finished_ns = now - 3 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Exited (0) 3 seconds ago");
  s.finished_ns = now - 90 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Exited (0) About a minute ago");
  s.finished_ns = now - 3600 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Exited (0) About an hour ago");
  s.finished_ns = now - 5 * 24 * 3600 * kSec;
  EXPECT_EQ(state_status_text(s, now), "Exited (0) 5 days ago");
  s.status = "dead";
  EXPECT_EQ(state_status_text(s, now), "Dead");
  s.status = "removing";
  EXPECT_EQ(state_status_text(s, now), "Removal In Progress");
}

TEST(ContainerWire, SummaryRowAsDockerWritesIt) {
  const int64_t now = 1700000000 * kSec;
  ContainerSummary s;
  s.id = "abc";
  s.names = {"/web"};
  s.image = "img:1";
  s.image_id = "sha256:def";
  s.command = "sh -c \"echo hi\"";
  s.created = 1700000000 - 60;
  s.labels = {{"b", "2"}, {"a", "\xc3\xa9"}};
  s.state.status = "running";
  s.state.started_ns = now - 5 * kSec;
  s.network_mode = "bridge";
  s.port_bindings["80/tcp"] = {{"0.0.0.0", "8080"}, {"::", "8080"}};
  s.port_bindings["53/udp"] = {{"", ""}};
  EndpointSettings e;
  e.network_name = "bridge";
  e.network_id = "n1";
  e.ip4 = "172.17.0.2";
  e.prefix4 = 16;
  e.gateway4 = "172.17.0.1";
  e.aliases = {"web"};
  s.networks.push_back(e);
  MountPointWire m;
  m.type = "volume";
  m.name = "data";
  m.source = "/var/lib/berth/volumes/data/_data";
  m.destination = "/data";
  m.driver = "local";
  m.mode = "z";
  s.mounts.push_back(m);
  s.size_rw = 12;

  Json want = {{"Id", "abc"},
               {"Names", {"/web"}},
               {"Image", "img:1"},
               {"ImageID", "sha256:def"},
               {"Command", "sh -c \"echo hi\""},
               {"Created", 1700000000 - 60},
               {"Ports",
                {{{"PrivatePort", 53}, {"Type", "udp"}},
                 {{"IP", "0.0.0.0"}, {"PrivatePort", 80}, {"PublicPort", 8080}, {"Type", "tcp"}},
                 {{"IP", "::"}, {"PrivatePort", 80}, {"PublicPort", 8080}, {"Type", "tcp"}}}},
               {"SizeRw", 12},
               {"Labels", {{"a", "\xc3\xa9"}, {"b", "2"}}},
               {"State", "running"},
               {"Status", "Up 5 seconds"},
               {"HostConfig", {{"NetworkMode", "bridge"}}},
               {"NetworkSettings",
                {{"Networks",
                  {{"bridge",
                    {{"IPAMConfig", nullptr},
                     {"Links", nullptr},
                     {"Aliases", {"web"}},
                     {"MacAddress", ""},
                     {"DriverOpts", nullptr},
                     {"NetworkID", "n1"},
                     {"EndpointID", ""},
                     {"Gateway", "172.17.0.1"},
                     {"IPAddress", "172.17.0.2"},
                     {"IPPrefixLen", 16},
                     {"IPv6Gateway", ""},
                     {"GlobalIPv6Address", ""},
                     {"GlobalIPv6PrefixLen", 0},
                     {"DNSNames", nullptr}}}}}}},
               {"Mounts",
                {{{"Type", "volume"},
                  {"Name", "data"},
                  {"Source", "/var/lib/berth/volumes/data/_data"},
                  {"Destination", "/data"},
                  {"Driver", "local"},
                  {"Mode", "z"},
                  {"RW", true},
                  {"Propagation", ""}}}}};
  EXPECT_EQ(Json(encode_container_summary(s, ApiVersion{1, 47}, now)), want);
  std::string text;
  JsonWriter w(text);
  write_container_summary(w, s, ApiVersion{1, 47}, now);
  EXPECT_EQ(*parse_json(text, "row"), want);

  // Older API versions leave out the newer endpoint fields.
  Json old = encode_container_summary(s, ApiVersion{1, 43}, now);
  const Json& ep = old["NetworkSettings"]["Networks"]["bridge"];
  EXPECT_FALSE(ep.contains("DriverOpts"));
  EXPECT_FALSE(ep.contains("DNSNames"));
  EXPECT_EQ(ep["IPAddress"], "172.17.0.2");

  // A user network's endpoint: DNSNames = name, aliases, short id. Before API 1.45 the short
  // id was among the Aliases too; since, Aliases are exactly what the create asked for.
  EndpointSettings u = e;
  u.network_name = "app";
  u.dns_names = {"web1", "web", "0123456789ab"};
  EXPECT_EQ(encode_endpoint_settings(u, ApiVersion{1, 45})["Aliases"], Json({"web"}));
  EXPECT_EQ(encode_endpoint_settings(u, ApiVersion{1, 45})["DNSNames"],
            Json({"web1", "web", "0123456789ab"}));
  EXPECT_EQ(encode_endpoint_settings(u, ApiVersion{1, 44})["Aliases"],
            Json({"web", "0123456789ab"}));
  u.aliases.clear();
  u.dns_names = {"web1", "0123456789ab"};
  EXPECT_EQ(encode_endpoint_settings(u, ApiVersion{1, 41})["Aliases"], Json({"0123456789ab"}));
  EXPECT_TRUE(encode_endpoint_settings(u, ApiVersion{1, 47})["Aliases"].is_null());
}

TEST(ContainerWire, WaitExecFramesPathStat) {
  EXPECT_EQ(dump_json(encode_wait_response(0, "")), R"({"Error":null,"StatusCode":0})");
  EXPECT_EQ(dump_json(encode_wait_response(-1, "x")),
            R"({"Error":{"Message":"x"},"StatusCode":-1})");
  EXPECT_EQ(frame_stream(2, "ab"), std::string("\x02\0\0\0\0\0\0\x02"
                                               "ab",
                                               10));
  EXPECT_EQ(stream_content_type(false, ApiVersion{1, 42}), std::string(kMultiplexedStream));
  EXPECT_EQ(stream_content_type(true, ApiVersion{1, 47}), std::string(kRawStream));
  EXPECT_EQ(stream_content_type(false, ApiVersion{1, 41}), std::string(kRawStream));
  PathStat p{"f", 3, 0644, 5 * kSec, "t"};
  auto back = decode_path_stat_header(encode_path_stat_header(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "f");
  EXPECT_EQ(back->size, 3);
  EXPECT_EQ(back->mode, 0644u);
  EXPECT_EQ(back->mtime_ns, 5 * kSec);
  EXPECT_EQ(back->link_target, "t");
  EXPECT_FALSE(decode_path_stat_header("!!!"));
}

TEST(ContainerWire, ConfigRoundTripsThroughInspect) {
  auto b = decode_create_body(
      R"({"Image":"busybox","Entrypoint":["/bin/sh","-c"],"Cmd":null,"ExposedPorts":{"80/tcp":{}},
          "Volumes":{"/data":{}},"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8080"}]},
          "ConsoleSize":[24,80],"MaskedPaths":[]}})",
      ApiVersion{1, 47}, 2);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_FALSE(b->config.cmd);
  EXPECT_EQ(b->config.entrypoint->size(), 2u);
  EXPECT_EQ(b->host_config.console_size, (std::vector<uint32_t>{24, 80}));
  ASSERT_TRUE(b->host_config.masked_paths);
  EXPECT_TRUE(b->host_config.masked_paths->empty());
  Json c = encode_container_config(b->config, ApiVersion{1, 47});
  EXPECT_TRUE(c["Cmd"].is_null());
  EXPECT_EQ(c["Entrypoint"][1], "-c");
  EXPECT_TRUE(c["ExposedPorts"]["80/tcp"].is_object());
  EXPECT_TRUE(c["Volumes"].contains("/data"));
  Json h = encode_host_config(b->host_config, ApiVersion{1, 47});
  EXPECT_EQ(h["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(h["ConsoleSize"][0], 24);
  EXPECT_FALSE(h.contains("KernelMemory"));
  // An old client's ConsoleSize and CgroupnsMode are not honoured (docker's rule).
  auto old = decode_create_body(R"({"Image":"b","HostConfig":{"ConsoleSize":[24,80]}})",
                                ApiVersion{1, 40}, 2);
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->host_config.console_size.empty());
  EXPECT_EQ(old->host_config.cgroupns_mode, "host");
  // --storage-opt is refused, not ignored; an empty map is what clients send by default.
  auto so = decode_create_body(R"({"Image":"b","HostConfig":{"StorageOpt":{"size":"1G"}}})",
                               ApiVersion{1, 47}, 2);
  ASSERT_FALSE(so);
  EXPECT_EQ(so.error().code, Errc::InvalidArgument);
  EXPECT_NE(so.error().message.find("--storage-opt"), std::string::npos);
  EXPECT_TRUE(
      decode_create_body(R"({"Image":"b","HostConfig":{"StorageOpt":{}}})", ApiVersion{1, 47}, 2));
  EXPECT_TRUE(decode_create_body(R"({"Image":"b","HostConfig":{"StorageOpt":null}})",
                                 ApiVersion{1, 47}, 2));
}

TEST(ContainerWire, BlockIoDevicesDecodeValidateAndEncode) {
  auto b = decode_create_body(
      R"({"Image":"b","HostConfig":{"BlkioWeightDevice":[{"Path":"/dev/sda","Weight":300}],
          "BlkioDeviceReadBps":[{"Path":"/dev/sda","Rate":1048576},null],
          "BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":[],
          "BlkioDeviceWriteIOps":[{"Path":"/dev/vdb","Rate":18446744073709551615}]}})",
      ApiVersion{1, 47}, 2);
  ASSERT_TRUE(b) << b.error().message;
  const Resources& r = b->host_config.resources;
  ASSERT_EQ(r.blkio_weight_device.size(), 1u);
  EXPECT_EQ(r.blkio_weight_device[0].path, "/dev/sda");
  EXPECT_EQ(r.blkio_weight_device[0].weight, 300);
  ASSERT_EQ(r.blkio_device_read_bps.size(), 1u);  // the null entry is skipped
  EXPECT_EQ(r.blkio_device_read_bps[0].rate, 1048576u);
  EXPECT_TRUE(r.blkio_device_write_bps.empty());
  EXPECT_EQ(r.blkio_device_write_iops.at(0).rate, UINT64_MAX);
  Json h = encode_host_config(b->host_config, ApiVersion{1, 47});
  EXPECT_EQ(h["BlkioWeightDevice"], Json::parse(R"([{"Path":"/dev/sda","Weight":300}])"));
  EXPECT_EQ(h["BlkioDeviceReadBps"], Json::parse(R"([{"Path":"/dev/sda","Rate":1048576}])"));
  EXPECT_EQ(h["BlkioDeviceWriteBps"], Json::array());
  EXPECT_EQ(h["BlkioDeviceWriteIOps"][0]["Rate"], UINT64_MAX);

  auto error_of = [](const char* hc) {
    auto r = decode_create_body(std::string(R"({"Image":"b","HostConfig":)") + hc + "}",
                                ApiVersion{1, 47}, 2);
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_NE(error_of(R"({"BlkioDeviceReadBps":{"Path":"/dev/sda"}})").find("BlkioDeviceReadBps"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"BlkioDeviceReadBps":[{"Path":"/dev/sda","Rate":-1}]})").find("uint64"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"BlkioDeviceWriteIOps":[{"Path":"/dev/sda","Rate":"5"}]})").find("Rate"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"BlkioWeightDevice":[{"Path":"/dev/sda","Weight":70000}]})").find("uint16"),
      std::string::npos);
  EXPECT_EQ(error_of(R"({"BlkioWeightDevice":[{"Path":"/dev/sda","Weight":5}]})"),
            "invalid weight for device: /dev/sda:5");
  EXPECT_EQ(error_of(R"({"BlkioDeviceReadIOps":[{"Path":"sda","Rate":5}]})"),
            "invalid BlkioDeviceReadIOps path \"sda\": must be absolute");
  EXPECT_EQ(error_of(R"({"BlkioWeightDevice":[{"Weight":500}]})"),
            "invalid BlkioWeightDevice path \"\": must be absolute");
}

// The issue fuzzes the create body: random mutations of a seed corpus must
// always come back as a value or an InvalidArgument, never a crash or throw.
TEST(ContainerWire, CreateBodyFuzzNeverCrashes) {
  const std::vector<std::string> seeds = {
      R"({"Image":"busybox","Cmd":["echo","hi"],"Env":["A=1"],"Labels":{"a":"b"}})",
      R"({"Image":"b","Healthcheck":{"Test":["CMD","true"],"Interval":1000000000},"HostConfig":
          {"Memory":67108864,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},
           "Ulimits":[{"Name":"nofile","Soft":1,"Hard":2}],"PortBindings":{"80/tcp":[{"HostPort":"1"}]},
           "Devices":[{"PathOnHost":"/dev/null"}],"BlkioDeviceReadBps":[{"Path":"/dev/sda","Rate":1}],
           "BlkioWeightDevice":[{"Path":"/dev/sda","Weight":10}],"Mounts":[{"Type":"tmpfs","Target":"/x"}],
           "LogConfig":{"Type":"json-file","Config":{"max-file":"2"}},"ConsoleSize":[1,2]},
          "NetworkingConfig":{"EndpointsConfig":{"bridge":{}}}})",
      R"({"Image":"b","Entrypoint":"sh","StopTimeout":5,"ExposedPorts":{"80/tcp":{}},"Volumes":{"/v":{}}})",
  };
  const std::string alphabet = "{}[]\":,0123456789-.eE truefalsnul\\ab/ImageCmdHostConfig";
  std::mt19937 rng(12345);
  int ok_count = 0, err_count = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s.erase(pos, 1 + rng() % 8);
          break;
        case 1:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        default: {
          size_t from = rng() % s.size();
          s.insert(pos, s.substr(from, rng() % 24));
        }
      }
    }
    Result<CreateBody> r = [&]() -> Result<CreateBody> {
      try {
        return decode_create_body(s, ApiVersion{1, static_cast<int>(24 + rng() % 24)}, 2);
      } catch (...) {
        ADD_FAILURE() << "threw on: " << s;
        return make_error(Errc::Internal, "threw");
      }
    }();
    // The other container bodies share the decoder: same input, same rule.
    for (auto e : {decode_update_body(s, 2).has_value() ? Errc::Internal : Errc::InvalidArgument,
                   decode_exec_create(s, ApiVersion{1, 47}).has_value() ? Errc::Internal
                                                                        : Errc::InvalidArgument,
                   decode_commit_config(s).has_value() ? Errc::Internal : Errc::InvalidArgument})
      (void)e;
    if (r) {
      ++ok_count;
      // Whatever decodes must also encode.
      (void)dump_json(encode_container_config(r->config, ApiVersion{1, 47}));
      (void)dump_json(encode_host_config(r->host_config, ApiVersion{1, 47}));
    } else {
      ++err_count;
      EXPECT_EQ(r.error().code, Errc::InvalidArgument) << r.error().message;
    }
  }
  EXPECT_GT(ok_count, 0);
  EXPECT_GT(err_count, 0);
}

TEST(ContainerWire, ExecBodies) {
  auto e =
      decode_exec_create(R"({"Cmd":"ls","Tty":true,"ConsoleSize":[10,20]})", ApiVersion{1, 47});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->cmd, std::vector<std::string>{"ls"});
  EXPECT_EQ(e->console_size.size(), 2u);
  EXPECT_FALSE(decode_exec_create("{}", ApiVersion{1, 47}));
  EXPECT_FALSE(decode_exec_create(R"({"Cmd":["a"],"Tty":"yes"})", ApiVersion{1, 47}));
  EXPECT_TRUE(decode_exec_start(""));
  EXPECT_TRUE(decode_exec_start(R"({"Detach":true})")->detach);
  EXPECT_FALSE(decode_exec_start(R"({"Detach":1})"));
}

TEST(ContainerWire, Names) {
  EXPECT_TRUE(validate_container_name("web"));
  EXPECT_TRUE(validate_container_name("/web_1.a-b"));
  EXPECT_FALSE(validate_container_name("a"));
  EXPECT_FALSE(validate_container_name("_x"));
  EXPECT_FALSE(validate_container_name("a b"));
  EXPECT_FALSE(validate_container_name("a/b"));
}

TEST(ContainerWire, DeviceRequestsAreRefusedWithDockersText) {
  // --gpus all, as docker's CLI sends it: berth has no device driver, so the
  // create is refused (docker gets as far as the start) with docker's text.
  auto gpu = decode_create_body(
      R"({"Image":"b","HostConfig":{"DeviceRequests":[{"Driver":"","Count":-1,"DeviceIDs":null,
          "Capabilities":[["gpu"]],"Options":{}}]}})",
      ApiVersion{1, 47}, 2);
  ASSERT_FALSE(gpu);
  EXPECT_EQ(gpu.error().code, Errc::InvalidArgument);
  EXPECT_EQ(gpu.error().message, R"(could not select device driver "" with capabilities: [[gpu]])");
  auto two = decode_create_body(
      R"({"Image":"b","HostConfig":{"DeviceRequests":[{"Driver":"nvidia",
          "Capabilities":[["gpu","utility"],["compute"],null]}]}})",
      ApiVersion{1, 47}, 2);
  ASSERT_FALSE(two);
  EXPECT_EQ(
      two.error().message,
      R"(could not select device driver "nvidia" with capabilities: [[gpu utility] [compute] []])");
  auto bad = decode_create_body(R"({"Image":"b","HostConfig":{"DeviceRequests":{"Driver":""}}})",
                                ApiVersion{1, 47}, 2);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("HostConfig.DeviceRequests of type []container.DeviceRequest"),
            std::string::npos)
      << bad.error().message;
  // What clients send when no device is asked for.
  for (const char* none : {"[]", "null"}) {
    auto b = decode_create_body(
        fmt::format(R"({{"Image":"b","HostConfig":{{"DeviceRequests":{}}}}})", none),
        ApiVersion{1, 47}, 2);
    EXPECT_TRUE(b) << none << ": " << b.error().message;
  }
}

TEST(ContainerWire, IsolationOnlyDefault) {
  for (const char* ok : {"", "default", "Default"}) {
    auto b =
        decode_create_body(fmt::format(R"({{"Image":"b","HostConfig":{{"Isolation":"{}"}}}})", ok),
                           ApiVersion{1, 47}, 2);
    ASSERT_TRUE(b) << ok << ": " << b.error().message;
    EXPECT_EQ(encode_host_config(b->host_config, ApiVersion{1, 47})["Isolation"], ok);
  }
  auto h = decode_create_body(R"({"Image":"b","HostConfig":{"Isolation":"hyperv"}})",
                              ApiVersion{1, 47}, 2);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message, R"(invalid isolation: "hyperv" - linux only supports 'default')");
}

TEST(ContainerWire, AnnotationsFromApi143AndVolumeDriver) {
  const char* body =
      R"({"Image":"b","HostConfig":{"Annotations":{"a.b":"c","e":""},"VolumeDriver":"local"}})";
  auto b = decode_create_body(body, ApiVersion{1, 47}, 2);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->host_config.annotations,
            (std::map<std::string, std::string>{{"a.b", "c"}, {"e", ""}}));
  EXPECT_EQ(b->host_config.volume_driver, "local");
  Json h = encode_host_config(b->host_config, ApiVersion{1, 47});
  EXPECT_EQ(h["Annotations"], Json({{"a.b", "c"}, {"e", ""}}));
  EXPECT_EQ(h["VolumeDriver"], "local");
  EXPECT_FALSE(encode_host_config(b->host_config, ApiVersion{1, 42}).contains("Annotations"));
  // Older clients' annotations are dropped, as dockerd drops fields newer than the request.
  auto old = decode_create_body(body, ApiVersion{1, 42}, 2);
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->host_config.annotations.empty());
  EXPECT_FALSE(encode_host_config(old->host_config, ApiVersion{1, 47}).contains("Annotations"));
  auto empty = decode_create_body(R"({"Image":"b","HostConfig":{"Annotations":{"":"x"}}})",
                                  ApiVersion{1, 47}, 2);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message,
            "invalid Annotations: the empty string is not permitted as an annotation key");
  auto typed = decode_create_body(R"({"Image":"b","HostConfig":{"Annotations":{"a":1}}})",
                                  ApiVersion{1, 47}, 2);
  ASSERT_FALSE(typed);
  EXPECT_NE(typed.error().message.find("HostConfig.Annotations"), std::string::npos);
}

}  // namespace
}  // namespace berth::api
