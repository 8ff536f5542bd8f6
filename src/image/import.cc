// docker import: a rootfs tarball (plain or compressed) becomes a one-layer
// image; the layer blob is stored as the plain tar (so its digest is the
// diff id), the config is new (platform, --change instructions, message).
#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "base/scope_exit.h"
#include "image/internal.h"

namespace berth::image {

Result<Digest> LocalImageService::import(const ImportRequest& req, const ByteSource& src,
                                         const ProgressFn& progress) {
  // Check everything the caller gave before reading the upload.
  std::optional<oci::Reference> ref;
  if (!req.repository.empty()) {
    std::string t = req.tag.empty() ? "latest" : req.tag;
    if (!oci::is_valid_tag(t))
      return make_error(Errc::InvalidArgument, "invalid tag format: \"{}\"", t);
    auto base = BERTH_TRY(oci::Reference::parse(req.repository, false));
    if (base.digest())
      return make_error(Errc::InvalidArgument, "import: repository must not have a digest");
    ref = base.tag() ? base : base.with_tag(t);
  }
  oci::ContainerConfig cc;
  BERTH_TRY(apply_changes(req.changes, cc));
  Platform plat = req.platform.value_or(Platform{});

  std::shared_lock gc_guard(gc_mu_);
  std::string tmp = tmp_dir() + "/import-" + random_hex_id().substr(0, 16);
  int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (raw < 0) return sys_error("create " + tmp);
  ScopeExit rm([&] { ::unlink(tmp.c_str()); });
  Digest diff;
  {
    Fd out(raw);
    diff = BERTH_TRY_CTX(snapshot::decompress_layer(
                             src, [&](std::string_view d) { return write_all(out.get(), d); }),
                         "import");
    if (fsync(out.get()) != 0) return sys_error("fsync " + tmp);
  }
  auto info = BERTH_TRY_CTX(content_->put_file(tmp), "import: store layer");
  if (info.digest != diff) {
    return make_error(Errc::Internal, "import: stored layer {} differs from its diff id {}",
                      info.digest.str(), diff.str());
  }
  BERTH_TRY_CTX(
      unpack_blob(info.digest, std::string(oci::media::kDockerLayer), diff, std::nullopt, nullptr),
      "import");

  oci::ImageConfig cfg;
  cfg.created = oci::format_rfc3339(now_ns());
  cfg.os = plat.os;
  cfg.architecture = plat.architecture;
  cfg.variant = plat.variant;
  cfg.config = cc;
  cfg.diff_ids = {diff};
  const std::string comment = req.message.empty() ? "Imported from -" : req.message;
  cfg.history.push_back(oci::HistoryItem{cfg.created, "", "", comment, false});
  // docker's config carries it too (image inspect's Comment).
  if (!cfg.raw.is_object()) cfg.raw = Json::object();
  cfg.raw["comment"] = comment;
  std::string cfg_bytes = oci::encode_image_config(cfg);
  auto cinfo = BERTH_TRY(content_->put(cfg_bytes));
  cfg = BERTH_TRY(oci::decode_image_config(cfg_bytes));

  oci::ImageManifest man;
  man.media_type = oci::media::kDockerManifest;
  man.config =
      oci::Descriptor{std::string(oci::media::kDockerConfig), cinfo.digest, cinfo.size, {}, {}, {}};
  man.layers.push_back(
      oci::Descriptor{std::string(oci::media::kDockerLayer), info.digest, info.size, {}, {}, {}});
  auto minfo = BERTH_TRY(content_->put(oci::encode_manifest(man)));
  metadata::ImageCommit c;
  c.image = BERTH_TRY(
      make_record(minfo.digest, std::string(oci::media::kDockerManifest), cinfo.digest, cfg));
  c.blobs = {minfo.digest, cinfo.digest, info.digest};
  if (ref) c.tags.push_back(ref->str());
  auto moved = BERTH_TRY(meta_->commit_image(c));
  for (const auto& mv : moved)
    if (mv.previous && *mv.previous != cinfo.digest)
      emit("untag", mv.previous->str(), mv.previous->str());
  if (progress) progress(ProgressEvent{"", cinfo.digest.str(), -1, -1});
  emit("import", cinfo.digest.str(), ref ? ref->familiar() : cinfo.digest.str());
  return cinfo.digest;
}

}  // namespace berth::image
