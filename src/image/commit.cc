// docker commit: the container's changes dir becomes one new layer on top of
// its image. The layer blob is stored as the plain tar (its digest is the
// diff id, as for import); an empty diff adds no layer, only a history entry
// marked empty_layer (docker does the same).
#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"
#include "base/scope_exit.h"
#include "image/internal.h"

namespace berth::image {

namespace {

// sha256 of 1024 zero bytes: a tar with no entries (docker's empty layer).
constexpr std::string_view kEmptyLayer =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

std::string join_cmd(const Json& cfg) {
  std::string out;
  auto it = cfg.find("Cmd");
  if (it == cfg.end() || !it->is_array()) return out;
  for (const auto& a : *it) {
    if (!a.is_string()) continue;
    if (!out.empty()) out += ' ';
    out += a.get<std::string>();
  }
  return out;
}

}  // namespace

Result<Digest> LocalImageService::commit_container(const CommitRequest& req) {
  std::optional<oci::Reference> ref;
  if (!req.repository.empty()) {
    std::string t = req.tag.empty() ? "latest" : req.tag;
    if (!oci::is_valid_tag(t))
      return make_error(Errc::InvalidArgument, "invalid tag format: \"{}\"", t);
    auto base = BERTH_TRY(oci::Reference::parse(req.repository, false));
    if (base.digest())
      return make_error(Errc::InvalidArgument, "commit: repository must not have a digest");
    ref = base.tag() ? base : base.with_tag(t);
  }
  if (!req.config.is_null() && !req.config.is_object())
    return make_error(Errc::InvalidArgument, "commit: config must be a JSON object");
  {
    oci::ContainerConfig probe;  // a bad instruction fails before any work
    BERTH_TRY(apply_changes(req.changes, probe));
  }
  std::string changes;
  if (!req.container_id.empty()) changes = BERTH_TRY(container_changes_dir(req.container_id));

  std::shared_lock gc_guard(gc_mu_);
  // The parent's record, config and manifest; a blank start without one.
  std::optional<metadata::ImageRecord> parent;
  Json raw_cfg;
  oci::ImageManifest parent_man;
  if (req.parent.valid()) {
    auto p = meta_->get_image(req.parent);
    if (!p) {
      if (p.error().code == Errc::NotFound)
        return make_error(Errc::NotFound, "No such image: {}", req.parent.str());
      return std::move(p).error();
    }
    parent = std::move(*p);
    auto parent_cfg_bytes = BERTH_TRY_CTX(content_->read(parent->id), "parent image config");
    parent_man = BERTH_TRY(
        oci::decode_manifest(BERTH_TRY_CTX(content_->read(parent->manifest), "parent manifest")));
    if (parent_man.layers.size() != parent->chain_ids.size())
      return make_error(Errc::Internal, "image {}: manifest has {} layers, the image {}",
                        parent->id.str(), parent_man.layers.size(), parent->chain_ids.size());
    raw_cfg = BERTH_TRY(parse_json(parent_cfg_bytes, "parent image config"));
    if (!raw_cfg.is_object())
      return make_error(Errc::Internal, "parent image config is not an object");
  } else {
    raw_cfg = Json{{"architecture", "amd64"},
                   {"os", "linux"},
                   {"config", Json::object()},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", Json::array()}}}};
  }

  // The changes as a plain tar in data-root/tmp, then into the content store.
  std::optional<content::BlobInfo> info;
  if (!req.container_id.empty()) {
    std::string tmp = tmp_dir() + "/commit-" + random_hex_id().substr(0, 16);
    int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (raw < 0) return sys_error("create " + tmp);
    ScopeExit rm([&] { ::unlink(tmp.c_str()); });
    {
      Fd out(raw);
      BERTH_TRY_CTX(snapshot::write_overlay_changes(
                        changes, [&](std::string_view d) { return write_all(out.get(), d); }),
                    "commit " + req.container_id);
      if (::fsync(out.get()) != 0) return sys_error("fsync " + tmp);
    }
    info = BERTH_TRY_CTX(content_->put_file(tmp), "commit: store layer");
  }
  // plain tar: blob digest == diff id
  const Digest diff = info ? info->digest : Digest{};
  const bool empty = !info || diff.str() == kEmptyLayer;

  // Config: the parent's, with the engine's "config", a new layer and entry.
  if (!req.config.is_null()) raw_cfg["config"] = req.config;
  auto cfg = BERTH_TRY(oci::decode_image_config(dump_json(raw_cfg)));
  BERTH_TRY(apply_changes(req.changes, cfg.config));
  cfg.created = req.blank && !req.parent.valid() && req.container_id.empty()
                    ? oci::format_rfc3339(0)
                    : oci::format_rfc3339(now_ns());
  cfg.author = req.author;
  // docker's config carries the message (image inspect's Comment) and, for
  // an image made here, its parent image.
  cfg.raw["comment"] = req.comment;
  if (req.parent.valid()) cfg.raw["parent"] = req.parent.str();
  if (!empty) cfg.diff_ids.push_back(diff);
  if (!req.no_history)
    cfg.history.push_back(oci::HistoryItem{
        cfg.created, req.created_by.empty() ? join_cmd(raw_cfg["config"]) : req.created_by,
        req.author, req.comment, empty});
  std::string cfg_bytes = oci::encode_image_config(cfg);
  cfg = BERTH_TRY(oci::decode_image_config(cfg_bytes));

  std::vector<Digest> blobs;
  if (!empty) {
    std::optional<Digest> top;
    if (parent && !parent->chain_ids.empty()) top = parent->chain_ids.back();
    BERTH_TRY_CTX(
        unpack_blob(info->digest, std::string(oci::media::kDockerLayer), diff, top, nullptr),
        "commit");
  }
  auto cinfo = BERTH_TRY(content_->put(cfg_bytes));

  // Manifest: the parent's layer descriptors plus the new one, in the
  // parent manifest's family (OCI or Docker) so the media types match.
  const bool oci_family = parent && parent->manifest_media_type == oci::media::kOciManifest;
  oci::ImageManifest man;
  man.media_type = oci_family ? oci::media::kOciManifest : oci::media::kDockerManifest;
  man.config =
      oci::Descriptor{std::string(oci_family ? oci::media::kOciConfig : oci::media::kDockerConfig),
                      cinfo.digest,
                      cinfo.size,
                      {},
                      {},
                      {}};
  man.layers = parent_man.layers;
  if (!empty)
    man.layers.push_back(
        oci::Descriptor{std::string(oci_family ? oci::media::kOciLayer : oci::media::kDockerLayer),
                        info->digest,
                        info->size,
                        {},
                        {},
                        {}});
  std::string man_body = oci::encode_manifest(man);
  auto minfo = BERTH_TRY(content_->put(man_body));

  metadata::ImageCommit c;
  c.image = BERTH_TRY(make_record(minfo.digest, man.media_type, cinfo.digest, cfg));
  c.blobs = {minfo.digest, cinfo.digest};
  for (const auto& l : man.layers) c.blobs.push_back(l.digest);
  if (ref) c.tags.push_back(ref->str());
  auto moved = BERTH_TRY(meta_->commit_image(c));
  for (const auto& mv : moved)
    if (mv.previous && *mv.previous != cinfo.digest)
      emit("untag", mv.previous->str(), mv.previous->str());
  if (ref) emit("tag", cinfo.digest.str(), ref->familiar());
  return cinfo.digest;
}

}  // namespace berth::image
