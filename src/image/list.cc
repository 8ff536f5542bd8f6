// Read-only verbs: list (with docker's filters), inspect, history, disk usage.
#include <algorithm>
#include <set>

#include "base/strings.h"
#include "image/internal.h"

namespace berth::image {

namespace {

std::string familiar_of(const std::string& full) {
  auto r = oci::Reference::parse(full);
  return r ? r->familiar() : full;
}

// docker lists newest first: by created, then by when berth added the image.
std::pair<int64_t, int64_t> age_key(const metadata::ImageRecord& r) {
  return {r.created, r.added_ns};
}

bool labels_match(const std::map<std::string, std::string>& labels,
                  const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos) {
      if (!labels.count(f)) return false;
    } else {
      bool negate = eq > 0 && f[eq - 1] == '!';
      std::string k = f.substr(0, negate ? eq - 1 : eq), v = f.substr(eq + 1);
      auto it = labels.find(k);
      bool match = it != labels.end() && it->second == v;
      if (match == negate) return false;
    }
  }
  return true;
}

}  // namespace

Result<ImageSummary> LocalImageService::summary_of(const metadata::ImageRecord& rec) const {
  return summary_from(rec, BERTH_TRY(meta_->tags_of(rec.id)),
                      BERTH_TRY(meta_->repo_digests_of(rec.id)));
}

ImageSummary LocalImageService::summary_from(const metadata::ImageRecord& rec,
                                             const std::vector<std::string>& tags,
                                             const std::vector<metadata::RepoDigest>& digests) {
  ImageSummary s;
  s.id = rec.id;
  for (const auto& t : tags) s.repo_tags.push_back(familiar_of(t));
  for (const auto& rd : digests) {
    auto r = oci::Reference::parse(rd.repository, false);
    std::string name = r ? r->familiar_name() : rd.repository;
    s.repo_digests.push_back(name + "@" + rd.manifest.str());
  }
  std::sort(s.repo_tags.begin(), s.repo_tags.end());
  s.created = rec.created;
  s.size = rec.size;
  s.labels = rec.labels;
  return s;
}

Result<std::shared_ptr<const LocalImageService::ImageIndex>> LocalImageService::image_index() {
  // The stamp is read before the queries: a change that lands between them
  // leaves an index newer than its stamp, which the next call rebuilds.
  auto stamp = BERTH_TRY(meta_->change_stamp());
  {
    std::lock_guard lk(index_mu_);
    if (index_ && index_->stamp == stamp) return index_;
  }
  auto idx = std::make_shared<ImageIndex>();
  idx->stamp = stamp;
  std::shared_ptr<const ImageIndex> old;
  {
    std::lock_guard lk(index_mu_);
    old = index_;
  }
  auto images = BERTH_TRY(meta_->list_images());
  // Tags and repo digests of all images in one query each (not two per image).
  idx->tags = BERTH_TRY(meta_->all_tags());
  const auto all_digests = BERTH_TRY(meta_->all_repo_digests());
  const std::vector<std::string> no_tags;
  const std::vector<metadata::RepoDigest> no_digests;
  std::stable_sort(images.begin(), images.end(),
                   [](const auto& a, const auto& b) { return age_key(b) < age_key(a); });
  for (auto& rec : images) {
    rec.chain_ids.clear();  // not needed by lists
    auto tit = idx->tags.find(rec.id);
    auto dit = all_digests.find(rec.id);
    auto summary = summary_from(rec, tit == idx->tags.end() ? no_tags : tit->second,
                                dit == all_digests.end() ? no_digests : dit->second);
    std::optional<Digest> parent;
    bool known = false;
    if (old) {
      if (auto it = old->parent_by_image.find(rec.id); it != old->parent_by_image.end()) {
        parent = it->second;
        known = true;
      }
    }
    if (!known) parent = parent_of(rec.id);
    idx->parent_by_image[rec.id] = parent;
    if (parent) idx->parents.insert(*parent);
    idx->entries.push_back({std::move(rec), std::move(summary)});
  }
  std::lock_guard lk(index_mu_);
  index_ = idx;
  return std::shared_ptr<const ImageIndex>(std::move(idx));
}

std::optional<Digest> LocalImageService::parent_of(const Digest& id) const {
  auto bytes = content_->read(id);
  if (!bytes) return std::nullopt;
  auto raw = parse_json(*bytes, "image config");
  if (!raw || !raw->is_object()) return std::nullopt;
  auto p = raw->find("parent");
  if (p == raw->end() || !p->is_string()) return std::nullopt;
  auto d = Digest::parse(p->get<std::string>());
  if (!d) return std::nullopt;
  return *d;
}

Result<std::vector<ImageSummary>> LocalImageService::list(const ListFilters& f) {
  auto idx = BERTH_TRY(image_index());
  const std::vector<std::string> no_tags;
  auto tags_of = [&](const Digest& id) -> const std::vector<std::string>& {
    auto it = idx->tags.find(id);
    return it == idx->tags.end() ? no_tags : it->second;
  };
  std::optional<metadata::ImageRecord> before, since;
  if (f.before) before = BERTH_TRY(meta_->get_image(BERTH_TRY(resolve(*f.before)).id));
  if (f.since) since = BERTH_TRY(meta_->get_image(BERTH_TRY(resolve(*f.since)).id));
  std::vector<ImageSummary> out;
  for (const auto& [rec, summary] : idx->entries) {
    if (before && !(age_key(rec) < age_key(*before))) continue;
    if (since && !(age_key(*since) < age_key(rec))) continue;
    if (!labels_match(rec.labels, f.labels)) continue;
    ImageSummary s = summary;
    // docker: an untagged image with children is an intermediate one,
    // listed only with -a and never dangling.
    const bool intermediate =
        s.repo_tags.empty() && s.repo_digests.empty() && idx->parents.count(rec.id) > 0;
    if (intermediate && (!f.all || f.dangling)) continue;
    bool dangling = s.repo_tags.empty();
    if (f.dangling && *f.dangling != dangling) continue;
    if (!f.references.empty()) {
      std::vector<std::string> kept;
      for (const auto& full : tags_of(rec.id)) {
        auto r = oci::Reference::parse(full);
        if (!r) continue;
        for (const auto& pat : f.references) {
          if (reference_filter_matches(pat, *r)) {
            kept.push_back(r->familiar());
            break;
          }
        }
      }
      // Digests are filtered like tags (dockerd does the same), else the CLI
      // would print a "<none>" row for the repository of a kept digest.
      std::vector<std::string> kept_digests;
      for (const auto& rd : s.repo_digests) {
        auto r = oci::Reference::parse(rd, false);
        if (!r) continue;
        for (const auto& pat : f.references) {
          if (reference_filter_matches(pat, *r)) {
            kept_digests.push_back(rd);
            break;
          }
        }
      }
      if (kept.empty() && kept_digests.empty()) continue;
      std::sort(kept.begin(), kept.end());
      s.repo_tags = kept;
      s.repo_digests = kept_digests;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<ImageDetail> LocalImageService::inspect(const std::string& name) {
  auto rn = BERTH_TRY(resolve(name));
  auto rec = BERTH_TRY(meta_->get_image(rn.id));
  ImageDetail d;
  d.summary = BERTH_TRY(summary_of(rec));
  auto bytes = BERTH_TRY_CTX(content_->read(rec.id), "image config");
  d.config = BERTH_TRY(parse_json(bytes, "image config"));
  auto cfg = BERTH_TRY(oci::decode_image_config(bytes));
  d.diff_ids = cfg.diff_ids;
  d.os = rec.os;
  d.architecture = rec.architecture;
  d.variant = rec.variant;
  d.added_ns = rec.added_ns;
  d.manifest = rec.manifest;
  d.manifest_media_type = rec.manifest_media_type;
  return d;
}

Result<std::vector<HistoryEntry>> LocalImageService::history(const std::string& name) {
  auto rn = BERTH_TRY(resolve(name));
  auto rec = BERTH_TRY(meta_->get_image(rn.id));
  auto cfg = BERTH_TRY(oci::decode_image_config(BERTH_TRY(content_->read(rec.id))));
  std::vector<HistoryEntry> out;
  size_t layer = 0;
  auto sizes = [&](size_t i) -> int64_t {
    if (i >= rec.chain_ids.size()) return 0;
    auto l = meta_->get_layer(rec.chain_ids[i]);
    return l && *l ? (*l)->size : 0;
  };
  if (cfg.history.empty()) {
    for (size_t i = 0; i < cfg.diff_ids.size(); ++i) {
      HistoryEntry e;
      e.id = "<missing>";
      e.created = rec.created;
      e.size = sizes(i);
      out.push_back(e);
    }
  }
  for (const auto& h : cfg.history) {
    HistoryEntry e;
    e.id = "<missing>";
    e.created = oci::parse_rfc3339(h.created).value_or(0);
    e.created_by = h.created_by;
    e.comment = h.comment;
    if (!h.empty_layer) e.size = sizes(layer++);
    out.push_back(e);
  }
  std::reverse(out.begin(), out.end());
  // docker's ids, row by row from the top: the image, then its parent (a
  // commit's or a build step's) while that is still here, <missing> after.
  std::optional<Digest> id = rec.id;
  for (auto& e : out) {
    if (!id || !meta_->get_image(*id)) break;
    e.id = id->str();
    for (const auto& t : BERTH_TRY(meta_->tags_of(*id))) e.tags.push_back(familiar_of(t));
    id = parent_of(*id);
  }
  return out;
}

Result<DiskUsage> LocalImageService::disk_usage() {
  DiskUsage du;
  auto images = BERTH_TRY(meta_->list_images());
  std::map<Digest, int> users;
  std::map<Digest, int64_t> layer_size;
  for (const auto& rec : images) {
    for (const auto& c : std::set<Digest>(rec.chain_ids.begin(), rec.chain_ids.end())) {
      ++users[c];
      if (!layer_size.count(c)) {
        auto l = BERTH_TRY(meta_->get_layer(c));
        layer_size[c] = l ? l->size : 0;
      }
    }
  }
  for (const auto& [c, s] : layer_size) du.layers_size += s;
  for (const auto& rec : images) {
    auto s = BERTH_TRY(summary_of(rec));
    s.containers = static_cast<int>(BERTH_TRY(meta_->containers_using(rec.id)).size());
    int64_t shared = 0;
    for (const auto& c : std::set<Digest>(rec.chain_ids.begin(), rec.chain_ids.end()))
      if (users[c] > 1) shared += layer_size[c];
    du.shared_size[rec.id.str()] = shared;
    du.images.push_back(std::move(s));
  }
  return du;
}

}  // namespace berth::image
