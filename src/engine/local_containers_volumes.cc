// engine/local_containers_volumes.cc — a container's volumes and binds:
// resolved at create (mount_plan.h, then the volume service), prepared at
// start (device mounts, copy-up), let go when its monitor ends, released
// at remove. Volume references are re-declared at startup (restore).
#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>

#include "base/file.h"
#include "base/log.h"
#include "cgroups/layout.h"
#include "engine/container_messages.h"
#include "engine/local_containers.h"
#include "engine/mount_plan.h"
#include "engine/rootfs_mount.h"
#include "engine/volumes.h"
#include "sys/syscalls.h"

namespace berth::engine {

namespace fs = std::filesystem;

Result<std::vector<PlannedMount>> LocalContainerService::plan_container_mounts(
    const StoredConfig& sc) {
  MountPlanInput in;
  in.binds = sc.host_config.binds;
  in.mounts = sc.host_config.mounts;
  in.config_volumes = sc.config.volumes;
  in.volume_driver = sc.host_config.volume_driver;
  for (const auto& [dest, opts] : sc.host_config.tmpfs) in.tmpfs.push_back(dest);
  for (const auto& spec : sc.host_config.volumes_from) {
    auto [name, mode] = BERTH_TRY(parse_volumes_from(spec));
    std::lock_guard lk(mu_);
    auto other = BERTH_TRY(find_locked(name));
    in.volumes_from.push_back({mode, other->cfg.mounts});
  }
  auto plan = BERTH_TRY(plan_mounts(in));
  bool wants_volume = std::any_of(plan.begin(), plan.end(),
                                  [](const PlannedMount& p) { return p.mount.type == "volume"; });
  if (wants_volume && !opts_.volumes) {
    return make_error(Errc::FailedPrecondition, "this daemon has no volume service");
  }
  return plan;
}

Result<std::vector<ContainerMount>> LocalContainerService::resolve_mounts(
    const std::vector<PlannedMount>& plan, const std::string& id, MountUndo& undo) {
  std::vector<ContainerMount> out;
  for (const auto& p : plan) {
    ContainerMount m = p.mount;
    if (m.type == "bind" && p.create_host_path) {
      std::error_code ec;
      if (!fs::exists(m.source, ec)) {
        // docker creates a missing -v source as a directory; remember the
        // topmost one made so a failed create takes it away again.
        fs::path top = m.source;
        while (top.has_parent_path() && top.parent_path() != top &&
               !fs::exists(top.parent_path(), ec))
          top = top.parent_path();
        fs::create_directories(m.source, ec);
        if (ec) {
          return make_error(Errc::InvalidArgument,
                            "error while creating mount source path '{}': {}", m.source,
                            ec.message());
        }
        // Deepest first, so undo can walk up to `top`.
        for (fs::path d = m.source;; d = d.parent_path()) {
          undo.dirs.push_back(d.string());
          if (d == top || !d.has_parent_path() || d.parent_path() == d) break;
        }
      }
    } else if (m.type == "volume" && p.existing_volume) {
      BERTH_TRY(opts_.volumes->add_reference(m.name, id));
    } else if (m.type == "volume") {
      VolumeCreateRequest r;
      r.name = m.name;
      r.driver = p.volume_driver;
      r.driver_opts = p.volume_options;
      r.labels = p.volume_labels;
      bool created = false;
      auto v = BERTH_TRY(opts_.volumes->acquire(r, m.anonymous, id, &created));
      if (created) undo.volumes.push_back(v.name);
      m.name = v.name;
      m.source = v.mountpoint;
      m.driver = v.driver;
    }
    out.push_back(std::move(m));
  }
  return out;
}

void LocalContainerService::undo_mounts(const std::string& id, const MountUndo& undo) {
  if (opts_.volumes) {
    for (const auto& n : undo.volumes) opts_.volumes->discard(n, id);
    opts_.volumes->release(id);
  }
  std::error_code ec;
  for (const auto& d : undo.dirs) {
    // Only directories this create made (deepest first), while still empty.
    if (fs::is_empty(d, ec)) fs::remove(d, ec);
  }
}

Result<void> LocalContainerService::prepare_mounts(const Ctr& c) {
  std::vector<ContainerMount> mounts;
  Json rootfs;
  {
    std::lock_guard lk(mu_);
    mounts = c.cfg.mounts;
    rootfs = c.cfg.rootfs_mounts;
  }
  if (mounts.empty() || !opts_.volumes) return {};
  // The image's files for copy-up come from a detached mount of the
  // container's rootfs (never attached anywhere), opened only when needed.
  Fd root;
  std::vector<std::string> held;
  auto undo = [&] {
    for (const auto& n : held) opts_.volumes->unmount(n, c.id);
  };
  for (const auto& m : mounts) {
    if (m.type != "volume") continue;
    std::function<Result<Fd>()> source;
    if (m.copy_data) {
      source = [&]() -> Result<Fd> {
        auto layers = decode_rootfs_mounts(rootfs);
        // Most volumes are mounted where the image has nothing: then the
        // (costly) detached mount of the whole rootfs is not needed.
        if (rootfs_lacks_path(layers, m.destination)) return Fd();
        if (!root) root = BERTH_TRY_CTX(idle_root(c, layers), "opening the rootfs for copy-up");
        auto s = sys::open_in_root(root.get(), m.destination, O_RDONLY | O_DIRECTORY);
        return s ? std::move(*s) : Fd();
      };
    }
    auto p = opts_.volumes->prepare_mount(m.name, c.id, source,
                                          {{"destination", m.destination},
                                           {"read/write", m.rw ? "true" : "false"},
                                           {"propagation", m.propagation}});
    if (!p) {
      undo();
      return p.error();
    }
    held.push_back(m.name);
  }
  return {};
}

Result<void> LocalContainerService::check_propagation(const Ctr& c) {
  std::vector<ContainerMount> binds;
  {
    std::lock_guard lk(mu_);
    for (const auto& m : c.cfg.mounts) {
      const std::string& p = m.propagation;
      if (m.type == "bind" && p != "rprivate" && p != "private" && !p.empty()) binds.push_back(m);
    }
  }
  if (binds.empty()) return {};  // the usual case: no mountinfo read at all
  auto text = BERTH_TRY(read_file("/proc/self/mountinfo"));
  std::vector<HostMount> host;
  for (auto& m : BERTH_TRY(cgroups::parse_mountinfo(text)))
    host.push_back(HostMount{std::move(m.mount_point), std::move(m.optional_fields)});
  for (const auto& b : binds) {
    std::error_code ec;
    auto resolved = std::filesystem::canonical(b.source, ec);
    BERTH_TRY(
        check_bind_propagation(b.source, ec ? b.source : resolved.string(), b.propagation, host));
  }
  return {};
}

void LocalContainerService::unmount_volumes_locked(const Ctr& c) {
  if (!opts_.volumes) return;
  for (const auto& m : c.cfg.mounts) {
    if (m.type == "volume") opts_.volumes->unmount(m.name, c.id);
  }
}

void LocalContainerService::restore_volume_refs() {
  if (!opts_.volumes) return;
  std::lock_guard lk(mu_);
  for (const auto& [id, c] : containers_) {
    for (const auto& m : c->cfg.mounts) {
      if (m.type != "volume") continue;
      if (auto r = opts_.volumes->add_reference(m.name, id); !r) {
        log_warn("container {}: volume {}: {}", id.substr(0, 12), m.name, r.error().message);
        continue;
      }
      if (c->monitor_live) (void)opts_.volumes->hold(m.name, id);
    }
  }
  opts_.volumes->unmount_unheld();
}

}  // namespace berth::engine
