// engine/local_containers_extra.cc — top, stats, changes, export, archive
// and commit: thin glue over the pure helpers (top.h, stats_reader.h,
// changes.h, archive.h, export.h) and the image service.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <thread>

#include "base/file.h"
#include "base/log.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "engine/archive.h"
#include "engine/changes.h"
#include "engine/commit_config.h"
#include "engine/container_messages.h"
#include "engine/export.h"
#include "engine/local_containers.h"
#include "engine/rootfs_mount.h"
#include "engine/spec_builder.h"
#include "engine/stats_reader.h"
#include "engine/top.h"

namespace berth::engine {

namespace {

std::string cgroup_parent_of(const HostConfig& h, const ContainerServiceOptions& o) {
  return h.resources.cgroup_parent.empty() ? o.cgroup_parent : h.resources.cgroup_parent;
}

Result<std::vector<pid_t>> cgroup_pids(const cgroups::Layout& l, const std::string& path) {
  std::string base;
  if (l.version == cgroups::Version::V2) {
    base = l.unified_root.empty() ? "/sys/fs/cgroup" : l.unified_root;
  } else {
    auto it = l.v1_roots.find("pids");
    if (it == l.v1_roots.end()) it = l.v1_roots.find("memory");
    if (it == l.v1_roots.end()) return make_error(Errc::Internal, "no cgroup v1 hierarchy");
    base = it->second;
  }
  auto text = BERTH_TRY(read_file(base + path + "/cgroup.procs"));
  std::vector<pid_t> out;
  for (const auto& line : split(text, '\n', true)) {
    if (auto n = parse_int(line)) out.push_back(static_cast<pid_t>(*n));
  }
  return out;
}

}  // namespace

Result<TopResult> LocalContainerService::top(const std::string& name, const std::string& ps_args) {
  auto c = BERTH_TRY(find(name));
  BERTH_TRY(validate_ps_args(ps_args));
  std::string path;
  {
    std::lock_guard lk(mu_);
    if (c->state.status != "running" && c->state.status != "paused") {
      return msg::not_running(c->id);
    }
    path = container_cgroups_path(cgroup_parent_of(c->cfg.host_config, opts_), c->id);
  }
  auto pids = BERTH_TRY(cgroup_pids(cgroup_layout_, path));
  return run_top(ps_args.empty() ? "-ef" : ps_args, pids);
}

Result<void> LocalContainerService::stats(const std::string& name, bool stream, bool one_shot,
                                          const StatsSink& sink, const GoneFn& gone) {
  auto c = BERTH_TRY(find(name));
  StatsPaths p;
  p.layout = cgroup_layout_;
  std::string cname;
  bool own_netns = false;
  {
    std::lock_guard lk(mu_);
    p.cgroups_path = container_cgroups_path(cgroup_parent_of(c->cfg.host_config, opts_), c->id);
    cname = "/" + c->name;
    // The host's namespace is not the container's to report (docker leaves
    // `networks` out for it too).
    own_netns = c->cfg.host_config.network_mode != "host";
  }
  auto running = [&] {
    std::lock_guard lk(mu_);
    return c->state.status == "running" || c->state.status == "paused";
  };
  auto sample = [&]() -> StatsSample {
    StatsSample s;
    bool live = false;
    {
      std::lock_guard lk(mu_);
      live = c->state.status == "running" || c->state.status == "paused";
      p.net_pid = own_netns ? c->state.pid : 0;  // a restart gives a new init
    }
    if (live) {
      if (auto r = read_stats(p)) s = *r;
    }
    s.read_ns = unix_now_ns();
    s.id = c->id;
    s.name = cname;
    return s;
  };
  auto sleep_1s = [&]() -> bool {  // false when the client left
    for (int i = 0; i < 4; ++i) {
      if (gone && gone()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return !(gone && gone());
  };
  StatsSample prev = sample();
  if (!stream) {
    if (one_shot) return sink(prev);
    if (!sleep_1s()) return make_error(Errc::Cancelled, "client gone");
    StatsSample cur = sample();
    carry_previous(cur, prev);
    return sink(cur);
  }
  {
    StatsSample first = prev;
    BERTH_TRY(sink(first));
  }
  while (true) {
    if (!sleep_1s()) return make_error(Errc::Cancelled, "client gone");
    StatsSample cur = sample();
    carry_previous(cur, prev);
    BERTH_TRY(sink(cur));
    prev = cur;
    if (!running()) return {};
  }
}

Result<std::vector<Change>> LocalContainerService::changes(const std::string& name) {
  auto c = BERTH_TRY(find(name));
  std::vector<std::string> lowers;
  {
    std::lock_guard lk(mu_);
    for (const auto& m : c->cfg.rootfs_mounts) {
      if (!m.contains("options")) continue;
      for (const auto& o : m["options"]) {
        std::string s = o.is_string() ? o.get<std::string>() : "";
        if (starts_with(s, "lowerdir=")) lowers = split(s.substr(9), ':', true);
      }
    }
  }
  std::string upper = BERTH_TRY(images_.container_changes_dir(c->id));
  return overlay_changes(upper, lowers);
}

// The container's root for archive/export/cp: the running init's root, or
// without a process idle_root().
Result<Fd> LocalContainerService::root_of(Ctr& c, std::unique_lock<std::mutex>& idle) {
  auto read = [&](int& pid, Json& mounts) {
    std::lock_guard lk(mu_);
    pid = c.state.pid;
    mounts = c.cfg.rootfs_mounts;
  };
  int pid = 0;
  Json mounts;
  // A running container's root needs no lock (a stop may hold op for long).
  read(pid, mounts);
  if (pid > 0) return open_root(fmt::format("/proc/{}/root", pid));
  idle = std::unique_lock(c.op);
  read(pid, mounts);  // started meanwhile?
  if (pid > 0) {
    idle.unlock();
    return open_root(fmt::format("/proc/{}/root", pid));
  }
  return idle_root(c, decode_rootfs_mounts(mounts));
}

namespace {

// docker's wording for a path missing in the container; other errors pass.
template <class T>
Result<T> name_missing(Result<T> r, const std::string& path, const std::string& name) {
  if (!r && r.error().code == Errc::NotFound) {
    return make_error(Errc::NotFound, "Could not find the file {} in container {}", path, name);
  }
  return r;
}

}  // namespace

Result<void> LocalContainerService::export_rootfs(const std::string& name, const ByteSinkFn& sink) {
  auto c = BERTH_TRY(find(name));
  std::unique_lock<std::mutex> idle;
  Fd root = BERTH_TRY(root_of(*c, idle));
  BERTH_TRY(export_root(root.get(), sink));
  publish(*c, "export");
  return {};
}

Result<PathStat> LocalContainerService::archive_stat(const std::string& name,
                                                     const std::string& path) {
  auto c = BERTH_TRY(find(name));
  std::unique_lock<std::mutex> idle;
  Fd root = BERTH_TRY(root_of(*c, idle));
  return name_missing(engine::archive_stat(root.get(), path), path, name);
}

Result<PathStat> LocalContainerService::archive_get(const std::string& name,
                                                    const std::string& path,
                                                    const ByteSinkFn& sink) {
  auto c = BERTH_TRY(find(name));
  std::unique_lock<std::mutex> idle;
  Fd root = BERTH_TRY(root_of(*c, idle));
  return name_missing(engine::archive_get(root.get(), path, sink), path, name);
}

Result<void> LocalContainerService::archive_put(const std::string& name, const std::string& path,
                                                const ByteSourceFn& tar,
                                                bool no_overwrite_dir_non_dir, bool copy_uid_gid) {
  (void)copy_uid_gid;
  auto c = BERTH_TRY(find(name));
  std::unique_lock<std::mutex> idle;
  Fd root = BERTH_TRY(root_of(*c, idle));
  PutOptions o;
  o.no_overwrite_dir_non_dir = no_overwrite_dir_non_dir;
  return engine::archive_put(root.get(), path, tar, o);
}

Result<std::string> LocalContainerService::commit(const CommitOptions& o) {
  auto c = BERTH_TRY(find(o.container));
  image::CommitRequest req;
  {
    std::lock_guard lk(mu_);
    req.config =
        image_config_json(o.config ? merge_commit_config(*o.config, c->cfg.config) : c->cfg.config);
    req.container_id = c->id;
    req.parent = c->image_id;
  }
  // docker pauses a running container while its layer is read, so the
  // image is a consistent snapshot; it resumes whatever the outcome.
  bool paused_here = false;
  if (o.pause) {
    bool running = false;
    {
      std::lock_guard lk(mu_);
      running = c->state.status == "running";
    }
    if (running) {
      BERTH_TRY(pause(c->id));
      paused_here = true;
    }
  }
  ScopeExit resume([&] {
    if (paused_here) {
      if (auto r = unpause(c->id); !r) {
        log_warn("commit: resuming {}: {}", c->id.substr(0, 12), r.error().message);
      }
    }
  });
  req.changes = o.changes;
  req.comment = o.comment;
  req.author = o.author;
  req.repository = o.repository;
  req.tag = o.tag;
  Digest id = BERTH_TRY(images_.commit_container(req));
  publish(*c, "commit");
  return id.str();
}

}  // namespace berth::engine
