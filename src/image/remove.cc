// tag, rmi (docker's ImageDelete semantics) and image prune.
#include <set>

#include "base/strings.h"
#include "image/internal.h"

namespace berth::image {

namespace {

std::string familiar_of(const std::string& full) {
  auto r = oci::Reference::parse(full);
  return r ? r->familiar() : full;
}

std::string repo_of(const std::string& full_tag) {
  auto r = oci::Reference::parse(full_tag);
  return r ? r->name() : full_tag;
}

}  // namespace

Result<void> LocalImageService::tag(const std::string& source, const std::string& repo,
                                    const std::string& tag) {
  auto rn = BERTH_TRY(resolve(source));
  std::string t = tag.empty() ? "latest" : tag;
  if (!oci::is_valid_tag(t)) {
    return make_error(Errc::InvalidArgument, "invalid tag format: \"{}\"", t);
  }
  if (repo.find('@') != std::string::npos) {
    return make_error(Errc::InvalidArgument, "refusing to create a tag with a digest reference");
  }
  auto base = BERTH_TRY(oci::Reference::parse(repo, false));
  if (base.tag() || base.digest()) {
    return make_error(Errc::InvalidArgument, "invalid reference format: \"{}\" has a tag already",
                      repo);
  }
  auto ref = base.with_tag(t);
  auto change = BERTH_TRY(meta_->set_tag(ref.str(), rn.id));
  emit("tag", rn.id.str(), ref.familiar());
  if (change.previous && *change.previous != rn.id) {
    emit("untag", change.previous->str(), change.previous->str());
  }
  return ok();
}

Result<std::vector<DeleteItem>> LocalImageService::remove(const std::string& name, bool force,
                                                          bool noprune) {
  auto rn = BERTH_TRY(resolve(name));
  const Digest id = rn.id;
  auto tags = BERTH_TRY(meta_->tags_of(id));
  auto digests = BERTH_TRY(meta_->repo_digests_of(id));
  auto containers = BERTH_TRY(meta_->containers_using(id));
  std::vector<DeleteItem> out;

  auto delete_image = [&]() -> Result<void> {
    const auto parent = parent_of(id);
    BERTH_TRY(meta_->delete_image(id));
    out.push_back(DeleteItem{"", id.str()});
    emit("delete", id.str(), id.str());
    if (!noprune) BERTH_TRY(remove_unused_parents(parent, out));
    // Sweep now unless a pull/load holds the store (then the next gc does):
    // an rmi must not wait for a long download to finish.
    if (!noprune) {
      std::unique_lock lock(gc_mu_, std::try_to_lock);
      if (lock.owns_lock()) BERTH_TRY(gc_locked());
    }
    return ok();
  };

  if (rn.ref) {
    // By reference: untag it; delete the image when that was its last name.
    const oci::Reference& ref = *rn.ref;
    size_t refs_left = tags.size() + digests.size();
    if (!ref.digest()) {
      // Removing the tag also drops digest references of the same repository
      // when nothing else of that repository remains (docker's rule).
      bool other_tag_same_repo = false;
      for (const auto& t : tags)
        if (t != ref.str() && repo_of(t) == ref.name()) other_tag_same_repo = true;
      size_t same_repo_digests = 0;
      for (const auto& d : digests)
        if (d.repository == ref.name()) ++same_repo_digests;
      size_t after =
          tags.size() - 1 + digests.size() - (other_tag_same_repo ? 0 : same_repo_digests);
      if (after == 0 && !containers.empty() && !force) {
        return make_error(Errc::Conflict,
                          "conflict: unable to remove repository reference \"{}\" (must force) "
                          "- container {} is using its referenced image {}",
                          name, containers[0].substr(0, 12), id.short_id());
      }
      BERTH_TRY(meta_->delete_tag(ref.str()));
      out.push_back(DeleteItem{ref.familiar(), ""});
      emit("untag", id.str(), id.str());
      if (!other_tag_same_repo && same_repo_digests) {
        BERTH_TRY(meta_->delete_repo_digests(id, ref.name()));
        for (const auto& d : digests)
          if (d.repository == ref.name())
            out.push_back(DeleteItem{ref.familiar_name() + "@" + d.manifest.str(), ""});
      }
      refs_left = after;
    } else {
      if (refs_left == 1 && !containers.empty() && !force) {
        return make_error(Errc::Conflict,
                          "conflict: unable to remove repository reference \"{}\" (must force) "
                          "- container {} is using its referenced image {}",
                          name, containers[0].substr(0, 12), id.short_id());
      }
      BERTH_TRY(meta_->delete_repo_digests(id, ref.name()));
      out.push_back(DeleteItem{ref.familiar(), ""});
      emit("untag", id.str(), id.str());
      refs_left = tags.size() + BERTH_TRY(meta_->repo_digests_of(id)).size();
    }
    if (refs_left == 0 && containers.empty()) BERTH_TRY(delete_image());
    return out;
  }

  // By id.
  if (!force) {
    std::set<std::string> repos;
    for (const auto& t : tags) repos.insert(repo_of(t));
    if (tags.size() > 1) {
      return make_error(Errc::Conflict,
                        "conflict: unable to delete {} (must be forced) - image is referenced in "
                        "multiple repositories",
                        id.short_id());
    }
    if (!containers.empty()) {
      return make_error(Errc::Conflict,
                        "conflict: unable to delete {} (must be forced) - image is being used by "
                        "stopped container {}",
                        id.short_id(), containers[0].substr(0, 12));
    }
  }
  for (const auto& t : tags) {
    BERTH_TRY(meta_->delete_tag(t));
    out.push_back(DeleteItem{familiar_of(t), ""});
    emit("untag", id.str(), id.str());
  }
  std::set<std::string> repos;
  for (const auto& d : digests) {
    auto r = oci::Reference::parse(d.repository, false);
    out.push_back(DeleteItem{(r ? r->familiar_name() : d.repository) + "@" + d.manifest.str(), ""});
    repos.insert(d.repository);
  }
  for (const auto& r : repos) BERTH_TRY(meta_->delete_repo_digests(id, r));
  BERTH_TRY(delete_image());
  return out;
}

Result<void> LocalImageService::remove_unused_parents(std::optional<Digest> parent,
                                                      std::vector<DeleteItem>& out) {
  // Bounded by the number of images: each round deletes one.
  while (parent) {
    auto rec = meta_->get_image(*parent);
    if (!rec) return ok();  // already gone
    if (!BERTH_TRY(meta_->tags_of(*parent)).empty() ||
        !BERTH_TRY(meta_->repo_digests_of(*parent)).empty() ||
        !BERTH_TRY(meta_->containers_using(*parent)).empty())
      return ok();
    auto idx = BERTH_TRY(image_index());
    if (idx->parents.count(*parent)) return ok();  // another child needs it
    const Digest id = *parent;
    parent = parent_of(id);
    BERTH_TRY(meta_->delete_image(id));
    out.push_back(DeleteItem{"", id.str()});
    emit("delete", id.str(), id.str());
  }
  return ok();
}

Result<PruneReport> LocalImageService::prune(bool all, const std::vector<std::string>& labels,
                                             std::optional<int64_t> until_unix) {
  PruneReport rep;
  auto images = BERTH_TRY(meta_->list_images());
  auto index = BERTH_TRY(image_index());
  std::vector<Digest> victims;
  for (const auto& rec : images) {
    if (until_unix && rec.created >= *until_unix) continue;
    bool label_ok = true;
    for (const auto& f : labels) {
      auto eq = f.find('=');
      bool negate = starts_with(f, "!") || (eq != std::string::npos && eq > 0 && f[eq - 1] == '!');
      std::string k = f, v;
      if (eq != std::string::npos) {
        k = f.substr(0, (eq > 0 && f[eq - 1] == '!') ? eq - 1 : eq);
        v = f.substr(eq + 1);
      }
      if (starts_with(k, "!")) k = k.substr(1);
      auto it = rec.labels.find(k);
      bool m = it != rec.labels.end() && (eq == std::string::npos || it->second == v);
      if (m == negate) label_ok = false;
    }
    if (!label_ok) continue;
    if (!BERTH_TRY(meta_->containers_using(rec.id)).empty()) continue;
    bool dangling = BERTH_TRY(meta_->tags_of(rec.id)).empty();
    if (!all && !dangling) continue;
    // Intermediate images go with their last child (below), not as
    // dangling ones.
    if (!all && index->parents.count(rec.id)) continue;
    victims.push_back(rec.id);
  }
  for (const auto& id : victims) {
    const auto parent = parent_of(id);
    auto items = remove(id.str(), true, true);
    if (!items) {
      if (items.error().code == Errc::NotFound) continue;
      return std::move(items).error();
    }
    for (auto& i : *items) rep.deleted.push_back(std::move(i));
    if (!items->empty() && !items->back().deleted.empty())
      BERTH_TRY(remove_unused_parents(parent, rep.deleted));
  }
  rep.space_reclaimed = BERTH_TRY(gc());
  ImageEvent e{"prune", "", {{"reclaimed", std::to_string(rep.space_reclaimed)}}};
  EventFn fn;
  {
    std::lock_guard lock(mu_);
    fn = events_;
  }
  if (fn) fn(e);
  return rep;
}

}  // namespace berth::image
