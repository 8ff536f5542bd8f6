// Layers: presence checks, unpacking a committed blob into a snapshot, and
// the image record built from a config.
#include <algorithm>

#include "image/internal.h"

namespace berth::image {

Result<bool> LocalImageService::layer_present(const Digest& chain_id) {
  auto l = BERTH_TRY(meta_->get_layer(chain_id));
  if (!l) return false;
  auto keys = BERTH_TRY(snap_->list());
  return std::find(keys.begin(), keys.end(), l->snapshot_key) != keys.end();
}

Result<metadata::LayerRecord> LocalImageService::unpack_blob(
    const Digest& blob, const std::string& media_type, const Digest& expected_diff,
    const std::optional<Digest>& parent_chain, const std::function<void(int64_t)>& on_bytes) {
  const Digest chain = oci::chain_id(parent_chain, expected_diff);
  return layer_flight_.run(chain, [&]() -> Result<metadata::LayerRecord> {
    if (BERTH_TRY(layer_present(chain))) return *BERTH_TRY(meta_->get_layer(chain));
    std::string parent_key;
    if (parent_chain) {
      auto p = BERTH_TRY(meta_->get_layer(*parent_chain));
      if (p) {
        parent_key = p->snapshot_key;
      } else if (std::string(snap_->name()) != "overlayfs") {
        return make_error(Errc::FailedPrecondition, "layer {}: parent layer {} is not unpacked",
                          chain.str(), parent_chain->str());
      }
    }
    auto info = BERTH_TRY(content_->info(blob));
    auto fd = std::make_shared<Fd>(BERTH_TRY(content_->open_blob(blob)));
    int64_t done = 0;
    auto inner = fd_source(fd);
    snapshot::ByteSource src = [&, inner]() -> Result<std::string> {
      auto chunk = BERTH_TRY(inner());
      done += static_cast<int64_t>(chunk.size());
      if (on_bytes && !chunk.empty()) on_bytes(done);
      return chunk;
    };
    auto res = BERTH_TRY_CTX(snap_->apply_layer(parent_key, src), "unpack layer " + blob.str());
    if (res.diff_id != expected_diff) {
      (void)snap_->remove(res.key);
      return make_error(Errc::InvalidArgument,
                        "layer {}: diff id mismatch: the image config says {}, the content is {}",
                        blob.str(), expected_diff.str(), res.diff_id.str());
    }
    auto rec = BERTH_TRY(record_layer(chain, parent_chain, res));
    BERTH_TRY(meta_->put_blob_layer(metadata::BlobLayer{blob, res.diff_id, media_type, info.size}));
    return rec;
  });
}

Result<metadata::LayerRecord> LocalImageService::record_layer(const Digest& chain,
                                                              const std::optional<Digest>& parent,
                                                              const snapshot::ApplyResult& res) {
  metadata::LayerRecord rec;
  rec.chain_id = chain;
  rec.parent = parent;
  rec.diff_id = res.diff_id;
  rec.snapshot_key = res.key;
  rec.size = res.size;
  if (auto r = meta_->put_layer(rec); !r) {
    (void)snap_->remove(res.key);
    return std::move(r).error();
  }
  return rec;
}

Result<metadata::ImageRecord> LocalImageService::make_record(const Digest& manifest,
                                                             const std::string& manifest_mt,
                                                             const Digest& config_digest,
                                                             const oci::ImageConfig& cfg) {
  metadata::ImageRecord r;
  r.id = config_digest;
  r.manifest = manifest;
  r.manifest_media_type = manifest_mt;
  r.created = oci::parse_rfc3339(cfg.created).value_or(0);
  r.added_ns = now_ns();
  r.os = cfg.os.empty() ? "linux" : cfg.os;
  r.architecture = cfg.architecture;
  r.variant = cfg.variant;
  r.chain_ids = oci::chain_ids(cfg.diff_ids);
  r.labels = cfg.config.labels;
  for (const auto& c : r.chain_ids) {
    auto l = BERTH_TRY(meta_->get_layer(c));
    if (!l)
      return make_error(Errc::Internal, "layer {} of image {} is missing", c.str(), r.id.str());
    r.size += l->size;
  }
  return r;
}

}  // namespace berth::image
