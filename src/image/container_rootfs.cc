// Container support: each container's writable snapshot ("rw-<id>") on top
// of its image's layer chain, and the lease ("container:<id>", never
// expiring) that keeps that chain alive through GC even after `rmi -f` of
// the image. Only remove_container_rootfs deletes either.
#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "base/strings.h"
#include "image/internal.h"

namespace berth::image {

namespace {

constexpr std::string_view kRwPrefix = "rw-";
constexpr std::string_view kLeasePrefix = "container:";

std::string rw_key(const std::string& id) { return std::string(kRwPrefix) + id; }
std::string lease_id(const std::string& id) { return std::string(kLeasePrefix) + id; }

Result<void> check_container_id(const std::string& id) {
  // The snapshot key must stay a valid key: [A-Za-z0-9_.-], not starting with '.'.
  bool okc = !id.empty() && id.size() <= 100 && id[0] != '.';
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      okc = false;
  if (!okc) return make_error(Errc::InvalidArgument, "invalid container id \"{}\"", id);
  return ok();
}

}  // namespace

Result<std::vector<RootfsMount>> LocalImageService::prepare_container_rootfs(
    const std::string& container_id, const Digest& image, Durability d) {
  BERTH_TRY(check_container_id(container_id));
  // Shared: gc() must not see the lease without the snapshot (it would
  // drop it as an orphan) nor sweep the chain meanwhile.
  std::shared_lock gc_guard(gc_mu_);
  auto rec = meta_->get_image(image);
  if (!rec) {
    if (rec.error().code == Errc::NotFound)
      return make_error(Errc::NotFound, "No such image: {}", image.str());
    return std::move(rec).error();
  }
  std::vector<std::string> keys;
  for (const auto& c : rec->chain_ids) {
    auto l = BERTH_TRY(meta_->get_layer(c));
    if (!l)
      return make_error(Errc::Internal, "layer {} of image {} is missing", c.str(), image.str());
    keys.push_back(l->snapshot_key);
  }
  // The mount points and bind targets the image lacks, shared by its
  // containers (init_layer.cc); the lease then names that layer, whose
  // parents are the image's.
  std::optional<Digest> leased;
  if (!rec->chain_ids.empty()) leased = rec->chain_ids.back();
  if (auto init = BERTH_TRY(init_layer_of(*rec, keys))) {
    keys.push_back(init->snapshot_key);
    leased = init->chain_id;
  }
  const std::string key = rw_key(container_id);
  // No listing of every snapshot first (a create would cost O(containers)):
  // prepare_rw refuses an existing key, and the lease is kept for it below.
  constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
  if (!leased) {
    BERTH_TRY(meta_->create_lease(lease_id(container_id), kForever));
  } else {
    BERTH_TRY(meta_->create_lease_with(lease_id(container_id), kForever, metadata::LeaseKind::Layer,
                                       leased->str(), d));
  }
  auto mounts = snap_->prepare_rw(key, keys, d);
  if (!mounts) {
    // AlreadyExists: a concurrent prepare won the key; the lease is its.
    if (mounts.error().code == Errc::AlreadyExists)
      return make_error(Errc::AlreadyExists, "container {} already has a rootfs", container_id);
    (void)meta_->release_lease(lease_id(container_id));
    return std::move(mounts).error().context("prepare rootfs of container " + container_id);
  }
  std::vector<RootfsMount> out;
  for (auto& m : *mounts)
    out.push_back(RootfsMount{std::move(m.type), std::move(m.source), std::move(m.options)});
  return out;
}

Result<void> LocalImageService::remove_container_rootfs(const std::string& container_id) {
  BERTH_TRY(check_container_id(container_id));
  // Snapshot first: a crash before the lease goes leaves an orphan lease,
  // which gc() drops (the reverse order could let gc sweep the chain under
  // a still-present rw snapshot).
  BERTH_TRY_CTX(snap_->remove_deferred(rw_key(container_id)),
                "remove rootfs of container " + container_id);
  BERTH_TRY(meta_->release_lease(lease_id(container_id)));
  return ok();
}

Result<bool> LocalImageService::repair_container_rootfs(const std::string& container_id,
                                                        const Digest& image) {
  BERTH_TRY(check_container_id(container_id));
  auto dir = snap_->layer_dirs({rw_key(container_id)});  // NotFound when missing (any driver)
  if (dir) return false;
  if (dir.error().code != Errc::NotFound) return std::move(dir).error();
  // The lease, if it survived, is re-created as it is (an upsert).
  BERTH_TRY(prepare_container_rootfs(container_id, image, Durability::Durable));
  return true;
}

Result<std::vector<std::string>> LocalImageService::list_container_rootfs() {
  std::vector<std::string> out;
  for (const auto& k : BERTH_TRY(snap_->list()))
    if (starts_with(k, kRwPrefix)) out.push_back(k.substr(kRwPrefix.size()));
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> LocalImageService::container_changes_dir(const std::string& container_id) {
  BERTH_TRY(check_container_id(container_id));
  auto dir = snap_->changes_dir(rw_key(container_id));
  if (!dir && dir.error().code == Errc::NotFound)
    return make_error(Errc::NotFound, "container {} has no rootfs", container_id);
  return dir;
}

// A container lease is an orphan when neither its writable layer nor its
// container row is there. A row without its layer is a layer a power loss
// took (prepared ProcessCrashSafe): the engine repairs it at startup, after
// this gc, and the lease must keep the image's chain until then.
Result<void> LocalImageService::drop_orphan_container_leases() {
  std::set<std::string> have;
  for (const auto& k : BERTH_TRY(snap_->list()))
    if (starts_with(k, kRwPrefix)) have.insert(k.substr(kRwPrefix.size()));
  for (const auto& row : BERTH_TRY(meta_->list_containers())) have.insert(row.id);
  for (const auto& l : BERTH_TRY(meta_->list_leases())) {
    if (!starts_with(l.id, kLeasePrefix)) continue;
    if (!have.count(l.id.substr(kLeasePrefix.size()))) BERTH_TRY(meta_->release_lease(l.id));
  }
  return ok();
}

bool is_container_snapshot_key(const std::string& key) { return starts_with(key, kRwPrefix); }

}  // namespace berth::image
