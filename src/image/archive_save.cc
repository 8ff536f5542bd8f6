// docker save: one tarball that is both a docker-archive (manifest.json,
// repositories) and an OCI image layout (oci-layout, index.json, blobs/), as
// docker 25+ writes it. Layers are written uncompressed (their diff id is
// their name), configs byte for byte (so the image id survives).
#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "base/file.h"
#include "base/scope_exit.h"
#include "image/internal.h"
#include "image/tar_io.h"

namespace berth::image {

namespace {

std::string blob_path(const Digest& d) { return "blobs/sha256/" + d.hex(); }

struct SaveImage {
  metadata::ImageRecord rec;
  std::vector<oci::Reference> tags;
};

}  // namespace

Result<void> LocalImageService::save(const std::vector<std::string>& names, const ByteSink& sink) {
  if (names.empty()) return make_error(Errc::InvalidArgument, "no images to save");
  std::vector<SaveImage> images;
  for (const auto& n : names) {
    auto rn = BERTH_TRY(resolve(n));
    SaveImage* slot = nullptr;
    for (auto& i : images)
      if (i.rec.id == rn.id) slot = &i;
    if (!slot) {
      images.push_back(SaveImage{BERTH_TRY(meta_->get_image(rn.id)), {}});
      slot = &images.back();
    }
    if (rn.ref && rn.ref->tag() && !rn.ref->digest()) slot->tags.push_back(*rn.ref);
  }

  auto w = BERTH_TRY(TarWriter::open(sink));
  std::set<Digest> written;
  BERTH_TRY(w->add_dir("blobs/"));
  BERTH_TRY(w->add_dir("blobs/sha256/"));
  Json manifest_json = Json::array();
  Json repositories = Json::object();
  oci::ImageIndex index;
  index.media_type = oci::media::kOciIndex;

  for (const auto& img : images) {
    auto cfg_bytes = BERTH_TRY_CTX(content_->read(img.rec.id), "image config");
    auto cfg = BERTH_TRY(oci::decode_image_config(cfg_bytes));
    if (written.insert(img.rec.id).second)
      BERTH_TRY(w->add_bytes(blob_path(img.rec.id), cfg_bytes));
    oci::ImageManifest om;
    om.media_type = oci::media::kOciManifest;
    om.config = oci::Descriptor{std::string(oci::media::kOciConfig),
                                img.rec.id,
                                static_cast<int64_t>(cfg_bytes.size()),
                                {},
                                {},
                                {}};
    Json layers = Json::array();
    for (const auto& diff : cfg.diff_ids) {
      layers.push_back(blob_path(diff));
      // The layer's plain tar: a stored blob that is already plain, or a
      // decompressed copy of a compressed one.
      std::optional<metadata::BlobLayer> src;
      for (const auto& b : BERTH_TRY(meta_->blobs_for_diff(diff))) {
        if (!content_->exists(b.blob)) continue;
        if (!src || b.blob == diff) src = b;
      }
      if (!src) {
        return make_error(Errc::NotFound, "layer {} of image {}: no stored blob", diff.str(),
                          img.rec.id.str());
      }
      int64_t size = 0;
      if (!written.count(diff)) {
        if (src->blob == diff) {
          Fd fd = BERTH_TRY(content_->open_blob(diff));
          BERTH_TRY(w->add_file(blob_path(diff), fd.get()));
          size = src->size;
        } else {
          std::string tmp = tmp_dir() + "/save-" + random_hex_id().substr(0, 16);
          int raw = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
          if (raw < 0) return sys_error("create " + tmp);
          Fd out(raw);
          ScopeExit rm([&] { ::unlink(tmp.c_str()); });
          auto in = std::make_shared<Fd>(BERTH_TRY(content_->open_blob(src->blob)));
          auto got = BERTH_TRY(snapshot::decompress_layer(
              fd_source(in), [&](std::string_view d) { return write_all(out.get(), d); }));
          if (got != diff) {
            return make_error(Errc::InvalidArgument,
                              "layer blob {} decompresses to {}, expected {}", src->blob.str(),
                              got.str(), diff.str());
          }
          size = lseek(out.get(), 0, SEEK_END);
          lseek(out.get(), 0, SEEK_SET);
          BERTH_TRY(w->add_file(blob_path(diff), out.get()));
        }
        written.insert(diff);
      } else {
        auto l = BERTH_TRY(meta_->blobs_for_diff(diff));
        for (const auto& b : l)
          if (b.blob == diff) size = b.size;
      }
      om.layers.push_back(
          oci::Descriptor{std::string(oci::media::kOciLayer), diff, size, {}, {}, {}});
    }
    std::string om_body = oci::encode_manifest(om);
    Digest om_digest = sha256_of(om_body);
    if (written.insert(om_digest).second) BERTH_TRY(w->add_bytes(blob_path(om_digest), om_body));

    Json entry = Json::object();
    entry["Config"] = blob_path(img.rec.id);
    Json tags = Json::array();
    for (const auto& t : img.tags) tags.push_back(t.familiar());
    entry["RepoTags"] = img.tags.empty() ? Json(nullptr) : tags;
    entry["Layers"] = layers;
    manifest_json.push_back(entry);

    oci::Descriptor d{std::string(oci::media::kOciManifest),
                      om_digest,
                      static_cast<int64_t>(om_body.size()),
                      {},
                      {},
                      {}};
    if (img.tags.empty()) {
      index.manifests.push_back(d);
    }
    for (const auto& t : img.tags) {
      d.annotations["io.containerd.image.name"] = t.str();
      d.annotations["org.opencontainers.image.ref.name"] = t.tag().value_or("latest");
      index.manifests.push_back(d);
      if (!cfg.diff_ids.empty())
        repositories[t.familiar_name()][t.tag().value_or("latest")] = cfg.diff_ids.back().hex();
    }
  }
  BERTH_TRY(w->add_bytes("index.json", oci::encode_index(index)));
  BERTH_TRY(w->add_bytes("manifest.json", dump_json(manifest_json)));
  BERTH_TRY(w->add_bytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  if (!repositories.empty()) BERTH_TRY(w->add_bytes("repositories", dump_json(repositories)));
  BERTH_TRY(w->close());
  for (const auto& img : images) {
    std::string name = img.tags.empty() ? img.rec.id.str() : img.tags.front().familiar();
    emit("save", img.rec.id.str(), name);
  }
  return ok();
}

}  // namespace berth::image
