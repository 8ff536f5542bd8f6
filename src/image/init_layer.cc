// A container's "init layer": the mount points a runtime needs (/proc, /dev,
// /sys, /etc) and the targets of the /etc/hosts, /etc/hostname and
// /etc/resolv.conf bind mounts, for an image that lacks them. Without it the
// runtime creates them in every container's writable layer at start, seven
// inodes per container (docker makes a per-container init layer for the same
// reason). Here one read-only layer per image chain holds them, made the first
// time a container of that chain is created and shared by all of them.
//
// It is a layer like any other (a snapshot and a row, parent = the image's top
// chain id, chain id derived from that one), so a container's lease on it
// keeps the image's layers alive (gc_roots closes over parents) and gc()
// sweeps it once no container uses it. Only on the overlay snapshotter: a copy
// snapshot would duplicate the whole image.
#include <sys/stat.h>

#include "image/internal.h"
#include "image/tar_io.h"

namespace berth::image {

namespace {

constexpr const char* kInitDirs[] = {"proc", "dev", "sys", "etc"};
constexpr const char* kInitFiles[] = {"etc/hosts", "etc/hostname", "etc/resolv.conf"};

bool any_layer_has(const std::vector<std::string>& layer_dirs, const std::string& rel) {
  struct stat st;
  for (const auto& d : layer_dirs)
    if (::lstat((d + "/" + rel).c_str(), &st) == 0) return true;
  return false;
}

}  // namespace

std::vector<InitEntry> missing_init_entries(const std::vector<std::string>& layer_dirs) {
  std::vector<InitEntry> out;
  // Conservative: anything at a path in any layer (a whiteout, a symlink, an
  // entry an opaque directory above hides) counts as present; the runtime
  // still creates what is really missing in the merged view.
  for (const char* d : kInitDirs)
    if (!any_layer_has(layer_dirs, d)) out.push_back({d, true});
  bool etc_made_here = !any_layer_has(layer_dirs, "etc");
  InitEntry etc_copy;
  if (!etc_made_here) {
    // The top-most layer that has "etc" decides what it is in the merged view.
    for (const auto& d : layer_dirs) {
      struct stat st;
      if (::lstat((d + "/etc").c_str(), &st) != 0) continue;
      if (!S_ISDIR(st.st_mode)) return out;  // never a directory over a symlink or file
      etc_copy = InitEntry{"etc",
                           true,
                           true,
                           static_cast<unsigned>(st.st_mode & 07777),
                           st.st_uid,
                           st.st_gid,
                           st.st_mtim.tv_sec};
      break;
    }
  }
  std::vector<InitEntry> files;
  for (const char* f : kInitFiles)
    if (!any_layer_has(layer_dirs, f)) files.push_back({f, false});
  if (!files.empty() && !etc_made_here) out.push_back(etc_copy);
  out.insert(out.end(), files.begin(), files.end());
  return out;
}

Digest init_chain_id(const Digest& top_chain) {
  return sha256_of("berth-init-layer v1\n" + top_chain.str());
}

Result<std::optional<metadata::LayerRecord>> LocalImageService::init_layer_of(
    const metadata::ImageRecord& rec, const std::vector<std::string>& keys_bottom_first) {
  if (rec.chain_ids.empty() || std::string(snap_->name()) != "overlayfs") return std::nullopt;
  const Digest top = rec.chain_ids.back();
  {
    std::lock_guard lk(init_mu_);
    if (no_init_needed_.count(top)) return std::nullopt;
  }
  const Digest chain = init_chain_id(top);
  // An empty key in the flight's answer stands for "this chain needs none".
  auto got = layer_flight_.run(chain, [&]() -> Result<metadata::LayerRecord> {
    if (auto have = BERTH_TRY(meta_->get_layer(chain))) {
      // The row alone is not trusted: its snapshot must be there too.
      if (snap_->layer_dirs({have->snapshot_key})) return *have;
      BERTH_TRY(meta_->delete_layer(chain));  // made again below, under a new key
    }
    auto dirs = BERTH_TRY(snap_->layer_dirs(keys_bottom_first));
    auto missing = missing_init_entries(dirs);
    if (missing.empty()) return metadata::LayerRecord{};
    std::string tar;
    ByteSink sink = [&](std::string_view d) -> Result<void> {
      tar.append(d);
      return ok();
    };
    auto w = BERTH_TRY(TarWriter::open(sink));
    for (const auto& e : missing)
      BERTH_TRY(e.dir ? w->add_dir(e.path + "/", e.perm, e.uid, e.gid, e.mtime)
                      : w->add_bytes(e.path, ""));
    BERTH_TRY(w->close());
    bool sent = false;
    snapshot::ByteSource src = [&]() -> Result<std::string> {
      if (sent) return std::string();
      sent = true;
      return std::move(tar);
    };
    auto res = BERTH_TRY_CTX(snap_->apply_layer(keys_bottom_first.back(), src), "init layer");
    return record_layer(chain, top, res);
  });
  if (!got) return std::move(got).error();
  if (got->snapshot_key.empty()) {
    std::lock_guard lk(init_mu_);
    no_init_needed_.insert(top);
    return std::nullopt;
  }
  return *got;
}

}  // namespace berth::image
