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

}  // namespace

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
