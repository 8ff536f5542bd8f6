// docker load: docker-archive (manifest.json) and OCI image layout
// (index.json) tarballs, plain or gzip/zstd/xz wrapped. The tarball is
// extracted into a private temp dir first (entries escaping it refuse the
// whole load before anything is stored); configs and layers are verified
// (config digest = image id, layer diff ids = rootfs.diff_ids).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/file.h"
#include "base/scope_exit.h"
#include "image/internal.h"
#include "image/tar_io.h"

namespace berth::image {

namespace {

struct LayerInput {
  std::string path;                     // absolute path of the extracted file
  std::optional<oci::Descriptor> desc;  // OCI layout: what the manifest says
};

struct ImageInput {
  std::string config_path;
  std::optional<Digest> config_digest;  // expected (from a descriptor or file name)
  std::vector<LayerInput> layers;
  std::vector<std::string> tags;             // as written: "busybox:latest" or fully qualified
  std::optional<std::string> manifest_body;  // OCI: the manifest as stored
  std::string manifest_mt;
};

std::string detect_layer_mt(const std::string& path) {
  std::string head(4, '\0');
  FILE* f = fopen(path.c_str(), "rb");
  if (f) {
    size_t n = fread(head.data(), 1, 4, f);
    head.resize(n);
    fclose(f);
  }
  if (head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b')
    return std::string(oci::media::kDockerLayerGzip);
  if (head.size() >= 4 && head == std::string("\x28\xb5\x2f\xfd", 4))
    return "application/vnd.docker.image.rootfs.diff.tar.zstd";
  return std::string(oci::media::kDockerLayer);
}

class Tree {
 public:
  Tree(std::string dir, std::map<std::string, std::string> links)
      : dir_(std::move(dir)), links_(std::move(links)) {}
  // Archive path -> file path (following recorded links); NotFound names it.
  Result<std::string> file(std::string p) const {
    while (!p.empty() && p[0] == '/') p.erase(0, 1);
    for (int hops = 0; hops < 16; ++hops) {
      auto it = links_.find(p);
      if (it == links_.end()) break;
      p = it->second;
    }
    std::string full = dir_ + "/" + p;
    struct stat st {};
    if (p.empty() || p.find("..") != std::string::npos || lstat(full.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      return make_error(Errc::InvalidArgument, "invalid tarball: file \"{}\" not found", p);
    }
    return full;
  }
  bool has(const std::string& p) const { return file(p).has_value(); }

 private:
  std::string dir_;
  std::map<std::string, std::string> links_;
};

std::optional<Digest> digest_from_name(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json") base.resize(base.size() - 5);
  auto d = Digest::from_hex(base);
  return d ? std::optional<Digest>(*d) : std::nullopt;
}

Result<std::vector<ImageInput>> docker_archive_inputs(const Tree& t) {
  auto text = BERTH_TRY(read_file(BERTH_TRY(t.file("manifest.json"))));
  Json j = BERTH_TRY(parse_json(text, "manifest.json"));
  if (!j.is_array()) return make_error(Errc::InvalidArgument, "manifest.json: expected array");
  std::vector<ImageInput> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& e = j[i];
    auto field = [&](const char* k) { return fmt::format("manifest.json[{}].{}", i, k); };
    if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string())
      return make_error(Errc::InvalidArgument, "{}: expected string", field("Config"));
    ImageInput in;
    std::string cfg = e["Config"].get<std::string>();
    in.config_path = BERTH_TRY(t.file(cfg));
    in.config_digest = digest_from_name(cfg);
    if (e.contains("RepoTags") && !e["RepoTags"].is_null()) {
      if (!e["RepoTags"].is_array())
        return make_error(Errc::InvalidArgument, "{}: expected array", field("RepoTags"));
      for (const auto& tg : e["RepoTags"]) {
        if (!tg.is_string())
          return make_error(Errc::InvalidArgument, "{}: expected strings", field("RepoTags"));
        in.tags.push_back(tg.get<std::string>());
      }
    }
    if (!e.contains("Layers") || !e["Layers"].is_array())
      return make_error(Errc::InvalidArgument, "{}: expected array", field("Layers"));
    for (const auto& l : e["Layers"]) {
      if (!l.is_string())
        return make_error(Errc::InvalidArgument, "{}: expected strings", field("Layers"));
      in.layers.push_back(LayerInput{BERTH_TRY(t.file(l.get<std::string>())), std::nullopt});
    }
    out.push_back(std::move(in));
  }
  return out;
}

Result<std::vector<ImageInput>> oci_layout_inputs(const Tree& t) {
  auto text = BERTH_TRY(read_file(BERTH_TRY(t.file("index.json"))));
  auto idx = BERTH_TRY_CTX(oci::decode_index(text), "index.json");
  std::vector<ImageInput> out;
  auto blob = [&](const oci::Descriptor& d) -> Result<std::string> {
    auto body = BERTH_TRY(read_file(BERTH_TRY(t.file("blobs/sha256/" + d.digest.hex()))));
    if (sha256_of(body) != d.digest)
      return make_error(Errc::InvalidArgument, "blob {}: digest mismatch", d.digest.str());
    return body;
  };
  for (auto d : idx.manifests) {
    std::string body = BERTH_TRY(blob(d));
    if (oci::is_index_media_type(d.media_type)) {
      auto inner = BERTH_TRY(oci::decode_index(body));
      size_t k = BERTH_TRY(oci::select_platform(inner, {"linux", "amd64", "", "", {}}));
      auto annotations = d.annotations;
      d = inner.manifests[k];
      d.annotations = annotations;
      body = BERTH_TRY(blob(d));
    }
    auto m = BERTH_TRY_CTX(oci::decode_manifest(body), "manifest " + d.digest.str());
    ImageInput in;
    in.config_path = BERTH_TRY(t.file("blobs/sha256/" + m.config.digest.hex()));
    in.config_digest = m.config.digest;
    for (const auto& l : m.layers)
      in.layers.push_back(LayerInput{BERTH_TRY(t.file("blobs/sha256/" + l.digest.hex())), l});
    in.manifest_body = body;
    in.manifest_mt = m.media_type.empty() ? std::string(oci::media::kOciManifest) : m.media_type;
    if (auto it = d.annotations.find("io.containerd.image.name"); it != d.annotations.end()) {
      in.tags.push_back(it->second);
    } else if (auto it2 = d.annotations.find("org.opencontainers.image.ref.name");
               it2 != d.annotations.end() && it2->second.find(':') != std::string::npos) {
      in.tags.push_back(it2->second);
    }
    // Several index entries for one manifest (one per tag) load as one image.
    bool merged = false;
    for (auto& o : out) {
      if (o.manifest_body == in.manifest_body) {
        for (auto& tg : in.tags) o.tags.push_back(tg);
        merged = true;
      }
    }
    if (!merged) out.push_back(std::move(in));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> LocalImageService::load(const ByteSource& src,
                                                         const ProgressFn& progress) {
  std::shared_lock gc_guard(gc_mu_);
  std::string dir = tmp_dir() + "/load-" + random_hex_id().substr(0, 16);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(Errc::Io, "create {}: {}", dir, ec.message());
  ScopeExit cleanup([&] {
    std::error_code e2;
    std::filesystem::remove_all(dir, e2);
  });
  std::map<std::string, std::string> links;
  BERTH_TRY_CTX(extract_archive(src, dir, links), "load");
  Tree tree(dir, links);
  std::vector<ImageInput> inputs;
  if (tree.has("manifest.json")) {
    inputs = BERTH_TRY(docker_archive_inputs(tree));
  } else if (tree.has("index.json")) {
    inputs = BERTH_TRY(oci_layout_inputs(tree));
  } else {
    return make_error(Errc::InvalidArgument,
                      "invalid tarball: neither manifest.json nor index.json found");
  }

  // Parse and check every tag before storing anything.
  std::vector<std::vector<oci::Reference>> refs;
  for (const auto& in : inputs) {
    std::vector<oci::Reference> r;
    for (const auto& t : in.tags) {
      auto ref = oci::Reference::parse(t);
      if (!ref) return std::move(ref).error().context("load: tag \"" + t + "\"");
      r.push_back(*ref);
    }
    refs.push_back(std::move(r));
  }

  std::vector<std::string> lines;
  std::map<std::string, Digest> stored;  // extracted file -> blob (shared layers)
  for (size_t n = 0; n < inputs.size(); ++n) {
    auto& in = inputs[n];
    auto cfg_bytes = BERTH_TRY(read_file(in.config_path));
    Digest id = sha256_of(cfg_bytes);
    if (in.config_digest && *in.config_digest != id) {
      return make_error(Errc::InvalidArgument, "load: image config {}: digest mismatch (got {})",
                        in.config_digest->str(), id.str());
    }
    auto cfg = BERTH_TRY_CTX(oci::decode_image_config(cfg_bytes), "load: image config");
    if (cfg.diff_ids.size() != in.layers.size()) {
      return make_error(Errc::InvalidArgument,
                        "load: image {} lists {} layers but its config has {} diff_ids",
                        id.short_id(), in.layers.size(), cfg.diff_ids.size());
    }
    BERTH_TRY(content_->put(cfg_bytes));
    std::vector<Digest> blobs{id};
    oci::ImageManifest man;
    man.media_type = oci::media::kDockerManifest;
    man.config = oci::Descriptor{std::string(oci::media::kDockerConfig),
                                 id,
                                 static_cast<int64_t>(cfg_bytes.size()),
                                 {},
                                 {},
                                 {}};
    std::optional<Digest> parent;
    for (size_t i = 0; i < in.layers.size(); ++i) {
      const auto& l = in.layers[i];
      Digest blob;
      if (auto it = stored.find(l.path); it != stored.end()) {
        blob = it->second;
      } else {
        auto info = BERTH_TRY_CTX(content_->put_file(l.path), "load: store layer");
        blob = info.digest;
        stored[l.path] = blob;
        if (l.desc && l.desc->digest != blob) {
          return make_error(Errc::InvalidArgument, "load: layer {}: digest mismatch (got {})",
                            l.desc->digest.str(), blob.str());
        }
      }
      auto bi = BERTH_TRY(content_->info(blob));
      std::string media = l.desc ? l.desc->media_type : detect_layer_mt(content_->path(blob));
      // The layer must be recorded even when its blob was shared.
      BERTH_TRY_CTX(unpack_blob(blob, media, cfg.diff_ids[i], parent, nullptr),
                    fmt::format("load: layer {}", i));
      man.layers.push_back(oci::Descriptor{media, blob, bi.size, {}, {}, {}});
      blobs.push_back(blob);
      parent = oci::chain_id(parent, cfg.diff_ids[i]);
    }
    std::string body = in.manifest_body ? *in.manifest_body : oci::encode_manifest(man);
    std::string mt = in.manifest_body ? in.manifest_mt : std::string(oci::media::kDockerManifest);
    auto minfo = BERTH_TRY(content_->put(body));
    blobs.push_back(minfo.digest);
    auto rec = BERTH_TRY(make_record(minfo.digest, mt, id, cfg));
    metadata::ImageCommit c;
    c.image = rec;
    c.blobs = blobs;
    for (const auto& r : refs[n]) c.tags.push_back(r.str());
    auto moved = BERTH_TRY(meta_->commit_image(c));
    for (const auto& mv : moved) {
      if (mv.previous && *mv.previous != id) {
        auto r = oci::Reference::parse(mv.tag);
        std::string line = fmt::format(
            "The image {} already exists, renaming the old one with ID {} to empty string",
            r ? r->familiar() : mv.tag, mv.previous->str());
        if (progress) progress(ProgressEvent{"", line, -1, -1});
        emit("untag", mv.previous->str(), mv.previous->str());
      }
    }
    if (refs[n].empty()) {
      lines.push_back("Loaded image ID: " + id.str());
      emit("load", id.str(), id.str());
    }
    for (const auto& r : refs[n]) {
      lines.push_back("Loaded image: " + r.familiar());
      emit("load", id.str(), r.familiar());
    }
  }
  for (const auto& l : lines)
    if (progress) progress(ProgressEvent{"", l, -1, -1});
  return lines;
}

}  // namespace berth::image
