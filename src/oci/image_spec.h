// oci/image_spec.h — OCI image-spec and Docker schema2 types and codecs:
// descriptors, manifests, indexes (manifest lists), image configs, chain ids
// and platform matching.
//
// Decoding never throws; errors are InvalidArgument naming the JSON path
// ("layers[2].digest: ..."). Docker schema1 manifests are refused by media
// type with NotImplemented "schema1 manifests are not supported".
// The image config is kept both decoded (the fields berth uses) and raw
// (ImageConfig::raw), because the image id is the digest of the exact bytes
// and unknown fields must survive a save/load.
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/json.h"
#include "base/result.h"

namespace berth::oci {

namespace media {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
}  // namespace media

bool is_index_media_type(std::string_view mt);
bool is_manifest_media_type(std::string_view mt);
bool is_schema1_media_type(std::string_view mt);
// Layer media types berth can unpack (tar, gzip, zstd; OCI, Docker and
// their non-distributable/foreign variants).
bool is_layer_media_type(std::string_view mt);

struct ImagePlatform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<ImagePlatform> platform;
};

struct ImageManifest {
  int schema_version = 2;
  std::string media_type;  // as written in the body (may be empty for OCI)
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

struct ImageIndex {
  int schema_version = 2;
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct HistoryItem {
  std::string created;  // RFC 3339 as written
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
};

// config.config: the runtime defaults of a container made from the image.
struct ContainerConfig {
  std::string user;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::set<std::string> volumes;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
};

struct ImageConfig {
  std::string created;  // RFC 3339 ("" when absent)
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  ContainerConfig config;
  std::string rootfs_type = "layers";
  std::vector<Digest> diff_ids;
  std::vector<HistoryItem> history;
  Json raw;  // the whole document as decoded
};

// Which kind of document a manifest body is, from its media type (or the
// body's mediaType when `media_type` is empty or generic JSON). Returns the
// effective media type. Schema1 -> NotImplemented "schema1 manifests are not
// supported"; anything else unknown -> InvalidArgument.
Result<std::string> manifest_kind(std::string_view media_type, std::string_view body);

Result<ImageManifest> decode_manifest(std::string_view body);
Result<ImageIndex> decode_index(std::string_view body);
Result<ImageConfig> decode_image_config(std::string_view body);

std::string encode_manifest(const ImageManifest& m);
std::string encode_index(const ImageIndex& i);
Json encode_descriptor(const Descriptor& d);
// Re-encodes the decoded fields over `raw` (unknown members are kept).
// Docker's spelling: "config": {"Env": .., "Cmd": ..}, "rootfs": {...}.
std::string encode_image_config(const ImageConfig& c);

// Checks a manifest against its config: one diff_id per layer, every layer
// of an unpackable media type with a positive size, config descriptor of
// a config media type.
Result<void> validate_manifest(const ImageManifest& m, const ImageConfig& c);

// chain(0) = diff(0); chain(n) = sha256(chain(n-1).str() + " " + diff(n).str()).
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);
Digest chain_id(const std::optional<Digest>& parent, const Digest& diff_id);

// Go's "uname -m"-style aliases to OCI names: x86_64 -> amd64, aarch64 ->
// arm64, armhf -> arm/v7, armel -> arm/v6. Defaults the arm variants
// (arm64 -> v8, arm -> v7).
ImagePlatform normalize_platform(ImagePlatform p);
// Whether an image built for `have` runs on `want` (containerd's rules: os and
// architecture equal; variant equal, or `want` has none and `have` is the
// default, or for arm a lower variant: v7 runs v6 and v5).
bool platform_matches(const ImagePlatform& want, const ImagePlatform& have);
// Index of the best manifest for `want` (exact variant first, then lower arm
// variants), or NotFound "no matching manifest for linux/arm64/v8 in the
// manifest list entries".
Result<size_t> select_platform(const ImageIndex& idx, const ImagePlatform& want);
std::string platform_string(const ImagePlatform& p);  // "linux/arm64/v8"

// RFC 3339 with optional fraction and zone -> unix seconds; nullopt when bad.
std::optional<int64_t> parse_rfc3339(std::string_view s);
// unix ns -> "2024-01-02T03:04:05.123456789Z"
std::string format_rfc3339(int64_t unix_ns);

}  // namespace berth::oci
