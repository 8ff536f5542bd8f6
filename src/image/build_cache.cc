// The builder's cache (docker's classic ImageCache): a step is skipped when
// an image made by the same step on the same parent is still here. Images
// made by commit and build name their parent in their config ("parent"), and
// their last history entry says what made them, so the cache needs no index
// of its own: it survives restarts and forgets an image as soon as it is
// removed.
#include "image/internal.h"

namespace berth::image {

namespace {

// The "config" object as encode_image_config writes it, so a config the
// builder computed compares equal to the one stored for the same step.
Result<Json> normalized(const Json& config) {
  Json raw = {{"architecture", "amd64"},
              {"os", "linux"},
              {"config", config},
              {"rootfs", {{"type", "layers"}, {"diff_ids", Json::array()}}}};
  auto cfg = BERTH_TRY(oci::decode_image_config(dump_json(raw)));
  Json back = BERTH_TRY(parse_json(oci::encode_image_config(cfg), "image config"));
  return back.value("config", Json::object());
}

// An image's config document and manifest, as stored.
struct Stored {
  metadata::ImageRecord rec;
  Json raw;
  oci::ImageConfig cfg;
  oci::ImageManifest man;
};

Result<Stored> load_stored(metadata::MetadataStore& meta, content::ContentStore& content,
                           const Digest& id) {
  Stored s;
  s.rec = BERTH_TRY(meta.get_image(id));
  std::string bytes = BERTH_TRY_CTX(content.read(s.rec.id), "image config");
  s.raw = BERTH_TRY(parse_json(bytes, "image config"));
  s.cfg = BERTH_TRY(oci::decode_image_config(bytes));
  s.man = BERTH_TRY(oci::decode_manifest(BERTH_TRY_CTX(content.read(s.rec.manifest), "manifest")));
  if (s.man.layers.size() != s.cfg.diff_ids.size())
    return make_error(Errc::Internal, "image {}: manifest has {} layers, the config {}", id.str(),
                      s.man.layers.size(), s.cfg.diff_ids.size());
  return s;
}

Json history_of(const Json& raw) {
  auto h = raw.find("history");
  return h != raw.end() && h->is_array() ? *h : Json::array();
}

}  // namespace

Result<std::optional<Digest>> LocalImageService::restore_build_cache(const Digest& parent,
                                                                     const Digest& source,
                                                                     const std::string& created_by,
                                                                     const Json& config) {
  std::shared_lock gc_guard(gc_mu_);
  const Stored p = BERTH_TRY(load_stored(*meta_, *content_, parent));
  const Stored s = BERTH_TRY(load_stored(*meta_, *content_, source));
  const Json ph = history_of(p.raw), sh = history_of(s.raw);
  const size_t n = ph.size(), layers = p.cfg.diff_ids.size();
  // docker's rule: a parent with neither history nor layers (scratch)
  // comes before any image; otherwise the source repeats the parent's
  // history entries and layers exactly, and has more history.
  if (sh.size() <= n || s.cfg.history.size() != sh.size()) return std::nullopt;
  if (n > 0 || layers > 0) {
    if (layers > s.cfg.diff_ids.size()) return std::nullopt;
    for (size_t i = 0; i < n; ++i)
      if (ph[i] != sh[i]) return std::nullopt;
    for (size_t i = 0; i < layers; ++i)
      if (p.cfg.diff_ids[i] != s.cfg.diff_ids[i]) return std::nullopt;
  }
  const oci::HistoryItem& entry = s.cfg.history[n];
  if (entry.created_by != created_by) return std::nullopt;
  if (n + 1 == sh.size()) return source;
  const size_t keep = layers + (entry.empty_layer ? 0 : 1);
  if (keep > s.cfg.diff_ids.size()) return std::nullopt;

  // The parent's document with the step's config, the source's entry (its
  // time, so the same restore makes the same image) and its layer.
  Json raw = p.raw;
  raw["config"] = config;
  raw["parent"] = parent.str();
  raw["created"] = sh[n].value("created", std::string());
  raw["author"] = entry.author;
  raw["comment"] = entry.comment;
  Json hist = ph;
  hist.push_back(sh[n]);
  raw["history"] = hist;
  Json diffs = Json::array();
  for (size_t i = 0; i < keep; ++i) diffs.push_back(s.cfg.diff_ids[i].str());
  raw["rootfs"] = {{"type", "layers"}, {"diff_ids", diffs}};
  auto cfg = BERTH_TRY(oci::decode_image_config(dump_json(raw)));
  std::string cfg_bytes = oci::encode_image_config(cfg);
  cfg = BERTH_TRY(oci::decode_image_config(cfg_bytes));
  auto cinfo = BERTH_TRY(content_->put(cfg_bytes));

  // The source's manifest family and layer blobs: its first `keep` layers
  // are the parent's layers (same diff ids) and the entry's.
  oci::ImageManifest man;
  man.media_type = s.man.media_type;
  const bool oci_family = s.man.media_type == oci::media::kOciManifest;
  man.config =
      oci::Descriptor{std::string(oci_family ? oci::media::kOciConfig : oci::media::kDockerConfig),
                      cinfo.digest,
                      cinfo.size,
                      {},
                      {},
                      {}};
  man.layers.assign(s.man.layers.begin(), s.man.layers.begin() + static_cast<long>(keep));
  auto minfo = BERTH_TRY(content_->put(oci::encode_manifest(man)));

  metadata::ImageCommit c;
  c.image = BERTH_TRY(make_record(minfo.digest, man.media_type, cinfo.digest, cfg));
  c.blobs = {minfo.digest, cinfo.digest};
  for (const auto& l : man.layers) c.blobs.push_back(l.digest);
  BERTH_TRY(meta_->commit_image(c));
  return cinfo.digest;
}

Result<std::optional<Digest>> LocalImageService::find_build_cache(const Digest& parent,
                                                                  const std::string& created_by,
                                                                  const Json& config) {
  const Json want = BERTH_TRY(normalized(config));
  const std::string parent_str = parent.str();
  std::optional<Digest> best;
  int64_t best_added = -1;
  for (const auto& rec : BERTH_TRY(meta_->list_images())) {
    if (rec.added_ns <= best_added) continue;
    auto bytes = content_->read(rec.id);
    if (!bytes) continue;  // being removed: not a candidate
    auto raw = parse_json(*bytes, "image config");
    if (!raw || !raw->is_object()) continue;
    auto p = raw->find("parent");
    if (p == raw->end() || !p->is_string() || p->get<std::string>() != parent_str) continue;
    auto h = raw->find("history");
    if (h == raw->end() || !h->is_array() || h->empty()) continue;
    const Json& last = h->back();
    if (!last.is_object() || last.value("created_by", std::string()) != created_by) continue;
    if (raw->value("config", Json::object()) != want) continue;
    best = rec.id;
    best_added = rec.added_ns;
  }
  return best;
}

}  // namespace berth::image
