// Decoding and encoding of OCI / Docker schema2 image documents.
#include "oci/image_spec.h"

#include <algorithm>

#include "base/strings.h"
#include "oci/json_reader.h"

namespace berth::oci {

using detail::JsonReader;

bool is_index_media_type(std::string_view mt) {
  return mt == media::kOciIndex || mt == media::kDockerManifestList;
}
bool is_manifest_media_type(std::string_view mt) {
  return mt == media::kOciManifest || mt == media::kDockerManifest;
}
bool is_schema1_media_type(std::string_view mt) {
  return mt == media::kDockerSchema1 || mt == media::kDockerSchema1Signed;
}
bool is_layer_media_type(std::string_view mt) {
  static const std::string_view kTypes[] = {
      media::kOciLayer,
      media::kOciLayerGzip,
      media::kOciLayerZstd,
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      media::kDockerLayerGzip,
      media::kDockerLayer,
      media::kDockerForeignLayerGzip,
      "application/vnd.docker.image.rootfs.diff.tar.zstd",
  };
  return std::find(std::begin(kTypes), std::end(kTypes), mt) != std::end(kTypes);
}

namespace {

Result<Digest> decode_digest(const JsonReader& r) {
  std::string s = BERTH_TRY(r.as_string());
  auto d = Digest::parse(s);
  if (!d) return r.error(d.error().message);
  return d.value();
}

Result<ImagePlatform> decode_platform(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  ImagePlatform p;
  p.os = BERTH_TRY(r.string("os"));
  p.architecture = BERTH_TRY(r.string("architecture"));
  p.variant = BERTH_TRY(r.string("variant"));
  p.os_version = BERTH_TRY(r.string("os.version"));
  p.os_features = BERTH_TRY(r.strings("os.features"));
  return p;
}

Result<Descriptor> decode_descriptor(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Descriptor d;
  d.media_type = BERTH_TRY(r.string("mediaType"));
  if (!r.has("digest")) return r.error("digest: missing");
  d.digest = BERTH_TRY(decode_digest(r.member("digest")));
  if (!r.has("size")) return r.error("size: missing");
  d.size = BERTH_TRY(r.integer<int64_t>("size"));
  if (d.size < 0) return r.member("size").error("must not be negative");
  d.urls = BERTH_TRY(r.strings("urls"));
  d.annotations = BERTH_TRY(r.string_map("annotations"));
  if (auto p = BERTH_TRY(r.object("platform"))) d.platform = BERTH_TRY(decode_platform(*p));
  return d;
}

Result<Json> parse_doc(std::string_view body, std::string_view what) {
  Json j = BERTH_TRY(parse_json(body, what));
  if (!j.is_object()) {
    return make_error(Errc::InvalidArgument, "{}: expected object, got {}", what, j.type_name());
  }
  return j;
}

Result<int> decode_schema_version(const JsonReader& r) {
  int v = BERTH_TRY(r.integer<int>("schemaVersion", 0));
  if (v == 1) return make_error(Errc::NotImplemented, "schema1 manifests are not supported");
  if (v != 2) return r.error(fmt::format("schemaVersion: unsupported value {}", v));
  return v;
}

std::set<std::string> keys_of(const Json& j) {
  std::set<std::string> out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

Result<std::set<std::string>> object_keys(const JsonReader& r, std::string_view key) {
  if (!r.has(key)) return std::set<std::string>();
  JsonReader m = r.member(key);
  BERTH_TRY(m.expect_object());
  return keys_of(m.json());
}

Result<std::optional<std::vector<std::string>>> opt_strings(const JsonReader& r,
                                                            std::string_view key) {
  if (!r.has(key)) return std::optional<std::vector<std::string>>();
  return std::optional<std::vector<std::string>>(BERTH_TRY(r.member(key).as_strings()));
}

Result<ContainerConfig> decode_container_config(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  ContainerConfig c;
  c.user = BERTH_TRY(r.string("User"));
  c.exposed_ports = BERTH_TRY(object_keys(r, "ExposedPorts"));
  c.env = BERTH_TRY(r.strings("Env"));
  c.entrypoint = BERTH_TRY(opt_strings(r, "Entrypoint"));
  c.cmd = BERTH_TRY(opt_strings(r, "Cmd"));
  c.volumes = BERTH_TRY(object_keys(r, "Volumes"));
  c.working_dir = BERTH_TRY(r.string("WorkingDir"));
  c.labels = BERTH_TRY(r.string_map("Labels"));
  c.stop_signal = BERTH_TRY(r.string("StopSignal"));
  return c;
}

Result<HistoryItem> decode_history(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  HistoryItem h;
  h.created = BERTH_TRY(r.string("created"));
  h.created_by = BERTH_TRY(r.string("created_by"));
  h.author = BERTH_TRY(r.string("author"));
  h.comment = BERTH_TRY(r.string("comment"));
  h.empty_layer = BERTH_TRY(r.boolean("empty_layer"));
  return h;
}

Json encode_platform(const ImagePlatform& p) {
  Json j = Json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Json set_object(const std::set<std::string>& s) {
  Json j = Json::object();
  for (const auto& k : s) j[k] = Json::object();
  return j;
}

}  // namespace

Result<std::string> manifest_kind(std::string_view media_type, std::string_view body) {
  std::string mt(media_type);
  auto semi = mt.find(';');
  if (semi != std::string::npos) mt = std::string(trim(mt.substr(0, semi)));
  if (is_schema1_media_type(mt)) {
    return make_error(Errc::NotImplemented, "schema1 manifests are not supported");
  }
  if (is_index_media_type(mt) || is_manifest_media_type(mt)) return mt;
  // Generic or missing Content-Type: look at the body.
  Json j = BERTH_TRY(parse_doc(body, "manifest"));
  JsonReader r(j, "");
  std::string body_mt = BERTH_TRY(r.string("mediaType"));
  if (is_schema1_media_type(body_mt) || BERTH_TRY(r.integer<int>("schemaVersion", 0)) == 1) {
    return make_error(Errc::NotImplemented, "schema1 manifests are not supported");
  }
  if (is_index_media_type(body_mt) || is_manifest_media_type(body_mt)) return body_mt;
  if (body_mt.empty()) {
    if (r.has("manifests")) return std::string(media::kOciIndex);
    if (r.has("config") && r.has("layers")) return std::string(media::kOciManifest);
  }
  return make_error(Errc::InvalidArgument, "unsupported manifest media type \"{}\"",
                    body_mt.empty() ? mt : body_mt);
}

Result<ImageManifest> decode_manifest(std::string_view body) {
  Json j = BERTH_TRY(parse_doc(body, "manifest"));
  JsonReader r(j, "");
  ImageManifest m;
  m.media_type = BERTH_TRY(r.string("mediaType"));
  if (is_schema1_media_type(m.media_type)) {
    return make_error(Errc::NotImplemented, "schema1 manifests are not supported");
  }
  m.schema_version = BERTH_TRY(decode_schema_version(r));
  if (!m.media_type.empty() && !is_manifest_media_type(m.media_type)) {
    return r.error(fmt::format("mediaType: \"{}\" is not an image manifest", m.media_type));
  }
  if (!r.has("config")) return make_error(Errc::InvalidArgument, "config: missing");
  m.config = BERTH_TRY(decode_descriptor(r.member("config")));
  m.layers = BERTH_TRY(r.array("layers", decode_descriptor));
  m.annotations = BERTH_TRY(r.string_map("annotations"));
  return m;
}

Result<ImageIndex> decode_index(std::string_view body) {
  Json j = BERTH_TRY(parse_doc(body, "index"));
  JsonReader r(j, "");
  ImageIndex i;
  i.media_type = BERTH_TRY(r.string("mediaType"));
  i.schema_version = BERTH_TRY(decode_schema_version(r));
  if (!i.media_type.empty() && !is_index_media_type(i.media_type)) {
    return r.error(fmt::format("mediaType: \"{}\" is not an image index", i.media_type));
  }
  if (!r.has("manifests")) return make_error(Errc::InvalidArgument, "manifests: missing");
  i.manifests = BERTH_TRY(r.array("manifests", decode_descriptor));
  i.annotations = BERTH_TRY(r.string_map("annotations"));
  return i;
}

Result<ImageConfig> decode_image_config(std::string_view body) {
  ImageConfig c;
  c.raw = BERTH_TRY(parse_doc(body, "image config"));
  JsonReader r(c.raw, "");
  c.created = BERTH_TRY(r.string("created"));
  if (!c.created.empty() && !parse_rfc3339(c.created)) {
    return r.member("created").error(fmt::format("invalid time \"{}\"", c.created));
  }
  c.author = BERTH_TRY(r.string("author"));
  c.architecture = BERTH_TRY(r.string("architecture"));
  c.os = BERTH_TRY(r.string("os"));
  c.variant = BERTH_TRY(r.string("variant"));
  if (auto cc = BERTH_TRY(r.object("config"))) c.config = BERTH_TRY(decode_container_config(*cc));
  auto rootfs = BERTH_TRY(r.object("rootfs"));
  if (!rootfs) return make_error(Errc::InvalidArgument, "rootfs: missing");
  c.rootfs_type = BERTH_TRY(rootfs->string("type"));
  if (c.rootfs_type != "layers") {
    return rootfs->error(fmt::format("type: expected \"layers\", got \"{}\"", c.rootfs_type));
  }
  c.diff_ids = BERTH_TRY(rootfs->array("diff_ids", decode_digest));
  c.history = BERTH_TRY(r.array("history", decode_history));
  return c;
}

Json encode_descriptor(const Descriptor& d) {
  Json j = Json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = encode_platform(*d.platform);
  return j;
}

std::string encode_manifest(const ImageManifest& m) {
  Json j = Json::object();
  j["schemaVersion"] = m.schema_version;
  if (!m.media_type.empty()) j["mediaType"] = m.media_type;
  j["config"] = encode_descriptor(m.config);
  Json layers = Json::array();
  for (const auto& l : m.layers) layers.push_back(encode_descriptor(l));
  j["layers"] = std::move(layers);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return dump_json(j);
}

std::string encode_index(const ImageIndex& i) {
  Json j = Json::object();
  j["schemaVersion"] = i.schema_version;
  if (!i.media_type.empty()) j["mediaType"] = i.media_type;
  Json ms = Json::array();
  for (const auto& m : i.manifests) ms.push_back(encode_descriptor(m));
  j["manifests"] = std::move(ms);
  if (!i.annotations.empty()) j["annotations"] = i.annotations;
  return dump_json(j);
}

std::string encode_image_config(const ImageConfig& c) {
  Json j = c.raw.is_object() ? c.raw : Json::object();
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  if (!c.variant.empty()) j["variant"] = c.variant;
  Json cc = j.contains("config") && j["config"].is_object() ? j["config"] : Json::object();
  auto put_str = [&](const char* k, const std::string& v) {
    if (v.empty())
      cc.erase(k);
    else
      cc[k] = v;
  };
  put_str("User", c.config.user);
  put_str("WorkingDir", c.config.working_dir);
  put_str("StopSignal", c.config.stop_signal);
  if (c.config.exposed_ports.empty())
    cc.erase("ExposedPorts");
  else
    cc["ExposedPorts"] = set_object(c.config.exposed_ports);
  if (c.config.volumes.empty())
    cc.erase("Volumes");
  else
    cc["Volumes"] = set_object(c.config.volumes);
  if (c.config.env.empty())
    cc.erase("Env");
  else
    cc["Env"] = c.config.env;
  if (c.config.entrypoint)
    cc["Entrypoint"] = *c.config.entrypoint;
  else
    cc.erase("Entrypoint");
  if (c.config.cmd)
    cc["Cmd"] = *c.config.cmd;
  else
    cc.erase("Cmd");
  if (c.config.labels.empty())
    cc.erase("Labels");
  else
    cc["Labels"] = c.config.labels;
  j["config"] = std::move(cc);
  Json diff = Json::array();
  for (const auto& d : c.diff_ids) diff.push_back(d.str());
  j["rootfs"] = Json{{"type", c.rootfs_type}, {"diff_ids", std::move(diff)}};
  if (!c.history.empty()) {
    Json h = Json::array();
    for (const auto& e : c.history) {
      Json x = Json::object();
      if (!e.created.empty()) x["created"] = e.created;
      if (!e.created_by.empty()) x["created_by"] = e.created_by;
      if (!e.author.empty()) x["author"] = e.author;
      if (!e.comment.empty()) x["comment"] = e.comment;
      if (e.empty_layer) x["empty_layer"] = true;
      h.push_back(std::move(x));
    }
    j["history"] = std::move(h);
  }
  return dump_json(j);
}

Result<void> validate_manifest(const ImageManifest& m, const ImageConfig& c) {
  const auto& ct = m.config.media_type;
  if (!ct.empty() && ct != media::kOciConfig && ct != media::kDockerConfig) {
    return make_error(Errc::InvalidArgument, "config.mediaType: unsupported config type \"{}\"",
                      ct);
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    if (!is_layer_media_type(l.media_type)) {
      return make_error(Errc::InvalidArgument,
                        "layers[{}].mediaType: unsupported layer type \"{}\"", i, l.media_type);
    }
    if (l.size <= 0) {
      return make_error(Errc::InvalidArgument, "layers[{}].size: must be positive, got {}", i,
                        l.size);
    }
  }
  if (m.layers.size() != c.diff_ids.size()) {
    return make_error(Errc::InvalidArgument,
                      "manifest has {} layers but the image config lists {} rootfs.diff_ids",
                      m.layers.size(), c.diff_ids.size());
  }
  return ok();
}

Digest chain_id(const std::optional<Digest>& parent, const Digest& diff_id) {
  if (!parent) return diff_id;
  return sha256_of(parent->str() + " " + diff_id.str());
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  std::optional<Digest> parent;
  for (const auto& d : diff_ids) {
    out.push_back(chain_id(parent, d));
    parent = out.back();
  }
  return out;
}

}  // namespace berth::oci
