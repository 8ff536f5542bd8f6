// Mark-and-sweep GC: the metadata computes the live set (images + unexpired
// leases); this sweeps content blobs, layer rows + snapshot dirs, and stale
// ingests.
#include <chrono>
#include <set>

#include "image/internal.h"

namespace berth::image {

namespace {
constexpr auto kStaleIngest = std::chrono::hours(1);
}

Result<int64_t> LocalImageService::gc() {
  std::unique_lock lock(gc_mu_);
  return gc_locked();
}

Result<int64_t> LocalImageService::gc_locked() {
  int64_t freed = 0;
  BERTH_TRY(drop_orphan_container_leases());
  auto roots = BERTH_TRY(meta_->gc_roots(now_unix()));
  for (const auto& b : BERTH_TRY(content_->list())) {
    if (roots.blobs.count(b.digest)) continue;
    auto r = content_->remove(b.digest);
    if (r) {
      freed += b.size;
    } else if (r.error().code != Errc::NotFound) {
      return std::move(r).error().context("gc");
    }
  }
  std::set<std::string> live_keys;
  for (const auto& l : roots.all_layers) {
    if (roots.layers.count(l.chain_id)) {
      live_keys.insert(l.snapshot_key);
      continue;
    }
    BERTH_TRY_CTX(snap_->remove(l.snapshot_key), "gc: remove snapshot " + l.snapshot_key);
    BERTH_TRY(meta_->delete_layer(l.chain_id));
    freed += l.size;
  }
  // Snapshot dirs without a layer row: an apply that finished but whose
  // row was never written (crash between the two). Containers' writable
  // snapshots have no layer row and are never swept here.
  for (const auto& k : BERTH_TRY(snap_->list())) {
    if (is_container_snapshot_key(k)) continue;
    if (!live_keys.count(k)) BERTH_TRY(snap_->remove(k));
  }
  BERTH_TRY(content_->prune_ingests(std::chrono::system_clock::now() - kStaleIngest));
  return freed;
}

}  // namespace berth::image
