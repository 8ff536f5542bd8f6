#include "oci/image_spec.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

const std::string kHexA(64, 'a');
const std::string kHexB(64, 'b');
const std::string kHexC(64, 'c');

std::string docker_manifest() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
  "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,
            "digest":"sha256:)" +
         kHexA + R"("},
  "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":2220094,
             "digest":"sha256:)" +
         kHexB + R"("}]})";
}

std::string config_json(int n_diff) {
  std::string ids;
  for (int i = 0; i < n_diff; ++i) ids += std::string(i ? "," : "") + "\"sha256:" + kHexC + "\"";
  return R"({"architecture":"amd64","os":"linux","created":"2023-05-19T20:19:24.123456789Z",
  "config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/w","User":"1:1",
            "ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},"Labels":{"a":"b"}},
  "rootfs":{"type":"layers","diff_ids":[)" +
         ids + R"(]},
  "history":[{"created":"2023-05-19T20:19:24Z","created_by":"ADD file in /"},
             {"created":"2023-05-19T20:19:24Z","created_by":"CMD [\"sh\"]","empty_layer":true}],
  "x-unknown":42})";
}

TEST(ImageSpec, DockerManifestDecodes) {
  auto m = decode_manifest(docker_manifest());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->config.size, 1469);
  EXPECT_EQ(m->config.digest.hex(), kHexA);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].media_type, media::kDockerLayerGzip);
  auto again = decode_manifest(encode_manifest(*m));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->layers[0].digest, m->layers[0].digest);
}

TEST(ImageSpec, ManifestErrorsNameTheField) {
  std::string bad = docker_manifest();
  bad.replace(bad.find("sha256:" + kHexB), 7 + 64, "sha256:zz");
  auto m = decode_manifest(bad);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Errc::InvalidArgument);
  EXPECT_NE(m.error().message.find("layers[0].digest"), std::string::npos) << m.error().message;

  auto s = decode_manifest(R"({"schemaVersion":2,"config":{"digest":"sha256:)" + kHexA +
                           R"(","size":"12"},"layers":[]})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("config.size"), std::string::npos) << s.error().message;

  EXPECT_FALSE(decode_manifest("[1]"));
  EXPECT_FALSE(decode_manifest("{not json"));
}

TEST(ImageSpec, Schema1Refused) {
  auto k = manifest_kind(media::kDockerSchema1Signed, "{}");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, Errc::NotImplemented);
  EXPECT_EQ(k.error().message, "schema1 manifests are not supported");
  auto k2 = manifest_kind("application/json", R"({"schemaVersion":1,"name":"x","fsLayers":[]})");
  ASSERT_FALSE(k2);
  EXPECT_EQ(k2.error().message, "schema1 manifests are not supported");
  auto m = decode_manifest(R"({"schemaVersion":1,"name":"x"})");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message, "schema1 manifests are not supported");
}

TEST(ImageSpec, ManifestKindFromBody) {
  auto k = manifest_kind("", R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, media::kOciIndex);
  auto k2 = manifest_kind("application/vnd.oci.image.manifest.v1+json; charset=utf-8", "");
  ASSERT_TRUE(k2);
  EXPECT_EQ(*k2, media::kOciManifest);
  EXPECT_FALSE(manifest_kind("text/html", "<html>"));
}

TEST(ImageSpec, ConfigDecodesAndKeepsUnknownFields) {
  auto c = decode_image_config(config_json(1));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->config.env, std::vector<std::string>{"PATH=/bin"});
  ASSERT_TRUE(c->config.cmd);
  EXPECT_EQ(*c->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_FALSE(c->config.entrypoint);
  EXPECT_EQ(c->config.exposed_ports.count("80/tcp"), 1u);
  EXPECT_EQ(c->config.volumes.count("/data"), 1u);
  EXPECT_EQ(c->config.labels.at("a"), "b");
  EXPECT_EQ(c->config.working_dir, "/w");
  EXPECT_EQ(c->config.user, "1:1");
  ASSERT_EQ(c->history.size(), 2u);
  EXPECT_TRUE(c->history[1].empty_layer);
  ASSERT_EQ(c->diff_ids.size(), 1u);
  auto again = decode_image_config(encode_image_config(*c));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->raw.at("x-unknown"), 42);
  EXPECT_EQ(*again->config.cmd, *c->config.cmd);
}

TEST(ImageSpec, ConfigErrors) {
  auto c = decode_image_config(R"({"os":"linux","rootfs":{"type":"layers","diff_ids":[1]}})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("rootfs.diff_ids[0]"), std::string::npos) << c.error().message;
  auto c2 = decode_image_config(R"({"os":"linux"})");
  ASSERT_FALSE(c2);
  EXPECT_NE(c2.error().message.find("rootfs"), std::string::npos);
  auto c3 = decode_image_config(R"({"config":{"Env":"x"},"rootfs":{"type":"layers"}})");
  ASSERT_FALSE(c3);
  EXPECT_NE(c3.error().message.find("config.Env"), std::string::npos) << c3.error().message;
}

TEST(ImageSpec, LayerCountMustMatchDiffIds) {
  auto m = decode_manifest(docker_manifest());
  ASSERT_TRUE(m);
  auto c1 = decode_image_config(config_json(1));
  auto c2 = decode_image_config(config_json(2));
  ASSERT_TRUE(c1 && c2);
  EXPECT_TRUE(validate_manifest(*m, *c1));
  auto v = validate_manifest(*m, *c2);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("1 layers"), std::string::npos) << v.error().message;
  m->layers[0].media_type = "application/x-foo";
  EXPECT_FALSE(validate_manifest(*m, *c1));
}

TEST(ImageSpec, ChainIds) {
  Digest a = sha256_of("a"), b = sha256_of("b"), c = sha256_of("c");
  auto ids = chain_ids({a, b, c});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], a);
  Digest ab = sha256_of(a.str() + " " + b.str());
  EXPECT_EQ(ids[1], ab);
  EXPECT_EQ(ids[2], sha256_of(ab.str() + " " + c.str()));
  EXPECT_EQ(chain_id(ab, c), ids[2]);
  EXPECT_TRUE(chain_ids({}).empty());
}

TEST(ImageSpec, IndexAndPlatformChoice) {
  auto entry = [](std::string_view arch, std::string_view variant, char hex) {
    std::string v = variant.empty() ? "" : fmt::format(R"(,"variant":"{}")", variant);
    return fmt::format(
        R"({{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,)"
        R"("digest":"sha256:{}","platform":{{"os":"linux","architecture":"{}"{}}}}})",
        std::string(64, hex), arch, v);
  };
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
    "manifests":[)" + entry("arm", "v6", '1') +
                     "," + entry("arm64", "v8", '2') + "," + entry("amd64", "", '3') + "," +
                     entry("arm", "v7", '4') + "]}";
  auto idx = decode_index(body);
  ASSERT_TRUE(idx) << idx.error().message;
  ASSERT_EQ(idx->manifests.size(), 4u);
  auto pick = [&](ImagePlatform p) {
    auto r = select_platform(*idx, p);
    return r ? static_cast<int>(*r) : -1;
  };
  EXPECT_EQ(pick({"linux", "amd64", "", "", {}}), 2);
  EXPECT_EQ(pick({"linux", "arm64", "", "", {}}), 1);
  EXPECT_EQ(pick({"linux", "aarch64", "", "", {}}), 1);
  EXPECT_EQ(pick({"linux", "arm", "v7", "", {}}), 3);
  EXPECT_EQ(pick({"linux", "arm", "", "", {}}), 3);
  EXPECT_EQ(pick({"linux", "arm", "v6", "", {}}), 0);
  EXPECT_EQ(pick({"linux", "arm", "v5", "", {}}), -1);
  auto none = select_platform(*idx, {"linux", "s390x", "", "", {}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "no matching manifest for linux/s390x in the manifest list entries");
  // arm v8 runs v7 when v7 is the best there is.
  idx->manifests.erase(idx->manifests.begin() + 1);
  EXPECT_TRUE(platform_matches({"linux", "arm", "v7", "", {}}, {"linux", "arm", "v6", "", {}}));
  EXPECT_FALSE(platform_matches({"linux", "arm", "v6", "", {}}, {"linux", "arm", "v7", "", {}}));
}

TEST(ImageSpec, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2023-05-19T20:19:24.123456789Z"), 1684527564);
  EXPECT_EQ(parse_rfc3339("2023-05-19T22:19:24+02:00"), 1684527564);
  EXPECT_FALSE(parse_rfc3339("2023-05-19 20:19:24"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_EQ(format_rfc3339(1684527564LL * 1000000000 + 500000000), "2023-05-19T20:19:24.5Z");
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace berth::oci
