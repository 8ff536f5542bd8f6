#include "runtime/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "runtime/mount_options.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

bool has_namespace(const oci::Spec& s, const char* type, bool new_only) {
  if (!s.linux) return false;
  for (const auto& n : s.linux->namespaces)
    if (n.type == type) return !new_only || n.path.empty();
  return false;
}

// A namespace joined by path that is not this process's own (a namespace
// the engine made for the container, say): its sysctls cannot reach the
// host, so they are allowed as for a new one (runc's rule too).
bool joins_foreign_namespace(const oci::Spec& s, const char* type) {
  if (!s.linux) return false;
  const char* proc = std::string_view(type) == "network" ? "net" : type;
  for (const auto& n : s.linux->namespaces) {
    if (n.type != type || n.path.empty()) continue;
    struct stat joined, own;
    if (::stat(n.path.c_str(), &joined) != 0) return false;
    if (::stat(fmt::format("/proc/self/ns/{}", proc).c_str(), &own) != 0) return false;
    return joined.st_ino != own.st_ino || joined.st_dev != own.st_dev;
  }
  return false;
}

std::string basename_of(const std::string& p) {
  auto pos = p.find_last_of('/');
  return pos == std::string::npos ? p : p.substr(pos + 1);
}

// Mounts over the fd (resolved in the rootfs), then reopens the path so the
// caller gets the new top mount, not the directory underneath it.
Result<Fd> mount_at(int root_fd, const std::string& dest, const char* src, const char* type,
                    unsigned long flags, const std::string& data, bool leaf_dir) {
  Fd target = BERTH_TRY(sys::mkdir_all_in_root(root_fd, dest, leaf_dir));
  if (::mount(src, sys::fd_path(target.get()).c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    return sys_error(fmt::format("mount {} ({}) on {}", src ? src : "", type ? type : "", dest));
  return sys::open_in_root(root_fd, dest, O_PATH);
}

Result<void> remount_bind(int fd, const std::string& dest, unsigned long flags) {
  std::string p = sys::fd_path(fd);
  unsigned long keep = statfs_locked_flags(p) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (::mount("", p.c_str(), "", flags | keep | MS_BIND | MS_REMOUNT, nullptr) != 0)
    return sys_error(fmt::format("remount {}", dest));
  return ok();
}

Result<void> apply_propagation(int fd, const std::string& dest, const MountFlags& mf) {
  for (unsigned long p : mf.propagation)
    if (::mount("", sys::fd_path(fd).c_str(), "", p, nullptr) != 0)
      return sys_error(fmt::format("set propagation on {}", dest));
  if (mf.recursive_ro) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
      return sys_error(fmt::format("make {} recursively read-only", dest));
  }
  return ok();
}

// Bind mount whose file owners are shifted by the mount's own mappings
// (runtime-spec 1.1 mounts[].uidMappings): clone the source tree, mark it
// MOUNT_ATTR_IDMAP with a user namespace holding the mappings, attach it.
Result<void> idmapped_bind(int root_fd, const oci::Mount& m, const MountFlags& mf, int ns) {
  struct stat st;
  if (::stat(m.source.c_str(), &st) != 0)
    return sys_error(fmt::format("bind mount source {} of {}", m.source, m.destination));
  unsigned rec = (mf.flags & MS_REC) ? AT_RECURSIVE : 0;
  Fd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, m.source.c_str(),
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec)));
  if (!tree) return sys_error(fmt::format("clone mount {}", m.source));
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(ns);
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | rec, &attr, sizeof attr) != 0)
    return sys_error(
        fmt::format("idmap mount of {} (does its filesystem support idmapped mounts?)", m.source));
  Fd target = BERTH_TRY(sys::mkdir_all_in_root(root_fd, m.destination, S_ISDIR(st.st_mode)));
  if (::syscall(SYS_move_mount, tree.get(), "", target.get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return sys_error(fmt::format("attach idmapped mount on {}", m.destination));
  Fd top = BERTH_TRY(sys::open_in_root(root_fd, m.destination, O_PATH));
  unsigned long extra = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (extra) BERTH_TRY(remount_bind(top.get(), m.destination, extra));
  return apply_propagation(top.get(), m.destination, mf);
}

// linux "cgroup" mount: the container sees only its own cgroup.
Result<void> mount_cgroup(const RootfsContext& ctx, int root_fd, const oci::Mount& m,
                          const MountFlags& mf) {
  unsigned long common = mf.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  bool ro = mf.flags & MS_RDONLY;
  if (ctx.cgroup_v2) {
    if (ctx.new_cgroupns) {
      Fd t = BERTH_TRY(mount_at(root_fd, m.destination, "cgroup2", "cgroup2",
                                common | (ro ? MS_RDONLY : 0), "", true));
      return ok();
    }
    auto it = ctx.cgroup_paths.find("");
    if (it == ctx.cgroup_paths.end()) return make_error(Errc::Internal, "no v2 cgroup path");
    Fd t = BERTH_TRY(
        mount_at(root_fd, m.destination, it->second.c_str(), "", MS_BIND | MS_REC, "", true));
    return remount_bind(t.get(), m.destination, common | (ro ? MS_RDONLY : 0));
  }
  // v1: a tmpfs with one bind mount per controller of the container's cgroup.
  Fd tmp = BERTH_TRY(
      mount_at(root_fd, m.destination, "tmpfs", "tmpfs", common & ~MS_RDONLY, "mode=755", true));
  std::vector<std::pair<Fd, std::string>> binds;
  for (const auto& [controller, hostdir] : ctx.cgroup_paths) {
    if (controller.empty()) continue;
    // Named hierarchies ("name=systemd") appear under their name, as on hosts.
    std::string dir = starts_with(controller, "name=") ? controller.substr(5) : controller;
    std::string dest = m.destination + "/" + dir;
    Fd t = BERTH_TRY(mount_at(root_fd, dest, hostdir.c_str(), "", MS_BIND | MS_REC, "", true));
    binds.emplace_back(std::move(t), std::move(dest));
  }
  // The binds' flags (and ro on the tmpfs) in one call over the whole tree
  // rather than a remount per controller (~20 syscalls on every start).
  // mount_setattr only sets flags, so locked ones stay as they are. When it
  // fails (before Linux 5.12: ENOSYS), one remount each, whose error names
  // the mount if that fails too.
  struct mount_attr attr = {};
  if (common & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
  if (common & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
  if (common & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
  if (ro) attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, tmp.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                sizeof attr) == 0)
    return ok();
  for (auto& [fd, dest] : binds)
    BERTH_TRY(remount_bind(fd.get(), dest, common | (ro ? MS_RDONLY : 0)));
  if (ro) BERTH_TRY(remount_bind(tmp.get(), m.destination, common | MS_RDONLY));
  return ok();
}

Result<void> do_mount(const RootfsContext& ctx, int root_fd, const oci::Mount& m, size_t index) {
  if (m.destination.empty() || m.destination[0] != '/')
    return make_error(Errc::InvalidArgument, "mount destination {:?} is not absolute",
                      m.destination);
  MountFlags mf = parse_mount_options(m.options);
  if (m.type == "bind") mf.flags |= MS_BIND;
  if (m.type == "cgroup") return mount_cgroup(ctx, root_fd, m, mf);
  if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) {
    if (!mf.bind())
      return make_error(Errc::InvalidArgument,
                        "mounts: {}: uidMappings/gidMappings need a bind mount", m.destination);
    auto ns = ctx.idmap_userns.find(index);
    if (ns == ctx.idmap_userns.end())
      return make_error(Errc::Internal, "mounts: {}: no id-mapping namespace", m.destination);
    return idmapped_bind(root_fd, m, mf, ns->second);
  }
  if (mf.bind()) {
    struct stat st;
    if (::stat(m.source.c_str(), &st) != 0)
      return sys_error(fmt::format("bind mount source {} of {}", m.source, m.destination));
    Fd t = BERTH_TRY(mount_at(root_fd, m.destination, m.source.c_str(), "",
                              MS_BIND | (mf.flags & MS_REC), "", S_ISDIR(st.st_mode)));
    unsigned long extra = mf.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (extra) BERTH_TRY(remount_bind(t.get(), m.destination, extra));
    return apply_propagation(t.get(), m.destination, mf);
  }
  std::string data = mf.data;
  if (m.type == "sysfs" && ctx.new_userns && !has_namespace(*ctx.spec, "network", true)) {
    // sysfs can only be mounted by the owner of the network namespace; fall
    // back to a read-only recursive bind of the host's /sys (as runc does).
    Fd t = BERTH_TRY(mount_at(root_fd, m.destination, "/sys", "", MS_BIND | MS_REC, "", true));
    return remount_bind(t.get(), m.destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  }
  std::string src = m.source.empty() ? m.type : m.source;
  Fd t = BERTH_TRY(mount_at(root_fd, m.destination, src.c_str(), m.type.c_str(),
                            mf.flags & ~MS_REMOUNT, data, true));
  return apply_propagation(t.get(), m.destination, mf);
}

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
const DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

Result<void> make_device(const RootfsContext& ctx, int root_fd, const std::string& path, char type,
                         unsigned major, unsigned minor, mode_t perm, uid_t uid, gid_t gid) {
  std::string parent = path.substr(0, path.find_last_of('/'));
  Fd pfd = BERTH_TRY(sys::mkdir_all_in_root(root_fd, parent.empty() ? "/" : parent, true));
  Fd dir(::openat(pfd.get(), ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!dir) return sys_error(fmt::format("open {}", parent));
  std::string name = basename_of(path);
  ::unlinkat(dir.get(), name.c_str(), 0);  // a file shipped in the image is replaced
  if (ctx.new_userns) {
    // mknod is not allowed in a user namespace: bind the host's node instead.
    int fd = ::openat(dir.get(), name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return sys_error(fmt::format("create {}", path));
    ::close(fd);
    Fd t = BERTH_TRY(sys::open_in_root(root_fd, path, O_PATH));
    if (::mount(path.c_str(), sys::fd_path(t.get()).c_str(), "", MS_BIND, nullptr) != 0)
      return sys_error(fmt::format("bind device {}", path));
    return ok();
  }
  mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  if (::mknodat(dir.get(), name.c_str(), kind | perm, makedev(major, minor)) != 0)
    return sys_error(fmt::format("mknod {}", path));
  // mknod honours the umask; set the exact mode and owner asked for.
  if (::fchmodat(dir.get(), name.c_str(), perm, 0) != 0) return sys_error("chmod device");
  if (::fchownat(dir.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("chown device");
  return ok();
}

bool dev_is_bind(const oci::Spec& s) {
  for (const auto& m : s.mounts)
    if (m.destination == "/dev") {
      for (const auto& o : m.options)
        if (o == "bind" || o == "rbind") return true;
      return m.type == "bind";
    }
  return false;
}

Result<void> setup_devices(const RootfsContext& ctx, int root_fd) {
  const oci::Spec& s = *ctx.spec;
  if (dev_is_bind(s)) return ok();
  std::map<std::string, bool> done;
  if (s.linux) {
    for (const auto& d : s.linux->devices) {
      if (d.path.empty() || d.path[0] != '/')
        return make_error(Errc::InvalidArgument, "linux.devices: path {:?} is not absolute",
                          d.path);
      char t = d.type.empty() ? 'c' : d.type[0];
      if (t == 'u') t = 'c';
      BERTH_TRY(make_device(ctx, root_fd, d.path, t, static_cast<unsigned>(d.major),
                            static_cast<unsigned>(d.minor), d.file_mode.value_or(0666) & 07777,
                            d.uid.value_or(0), d.gid.value_or(0)));
      done[d.path] = true;
    }
  }
  for (const auto& d : kDefaultDevices) {
    if (done.count(d.path)) continue;
    BERTH_TRY(make_device(ctx, root_fd, d.path, 'c', d.major, d.minor, 0666, 0, 0));
  }
  const std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
      {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
      {"pts/ptmx", "/dev/ptmx"},
  };
  Fd dev = BERTH_TRY(sys::mkdir_all_in_root(root_fd, "/dev", true));
  Fd devdir(::openat(dev.get(), ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!devdir) return sys_error("open /dev");
  for (const auto& [target, link] : links) {
    std::string name = basename_of(link);
    ::unlinkat(devdir.get(), name.c_str(), 0);
    if (::symlinkat(target, devdir.get(), name.c_str()) != 0 && errno != EEXIST)
      return sys_error(fmt::format("symlink {}", link));
  }
  if (::access("/proc/kcore", F_OK) == 0) ::symlinkat("/proc/kcore", devdir.get(), "core");
  return ok();
}

}  // namespace

Result<Fd> prepare_rootfs(const RootfsContext& ctx) {
  const oci::Spec& s = *ctx.spec;
  unsigned long root_prop = MS_SLAVE | MS_REC;
  if (s.linux && !s.linux->rootfs_propagation.empty()) {
    root_prop = propagation_flag(s.linux->rootfs_propagation);
    if (!root_prop)
      return make_error(Errc::InvalidArgument, "linux.rootfsPropagation: unknown value {:?}",
                        s.linux->rootfs_propagation);
  }
  // Nothing mounted below may propagate back to the host's namespace.
  if (::mount("", "/", "", root_prop, nullptr) != 0) return sys_error("set propagation of /");
  // pivot_root needs the new root to be a mount point.
  if (::mount(ctx.rootfs.c_str(), ctx.rootfs.c_str(), "", MS_BIND | MS_REC, nullptr) != 0)
    return sys_error(fmt::format("bind rootfs {}", ctx.rootfs));
  // ... and its parent mount must not be shared (pivot_root(2) EINVAL).
  if ((root_prop & MS_SHARED) && ::mount("", ctx.rootfs.c_str(), "", MS_PRIVATE, nullptr) != 0)
    return sys_error("make rootfs private");
  Fd root(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error(fmt::format("open rootfs {}", ctx.rootfs));
  for (size_t i = 0; i < s.mounts.size(); ++i) BERTH_TRY(do_mount(ctx, root.get(), s.mounts[i], i));
  BERTH_TRY(setup_devices(ctx, root.get()));
  return root;
}

Result<void> enter_rootfs(const RootfsContext& ctx) {
  if (ctx.no_pivot) {
    if (::chdir(ctx.rootfs.c_str()) != 0) return sys_error("chdir rootfs");
    if (::mount(ctx.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0)
      return sys_error("move rootfs to /");
    if (::chroot(".") != 0) return sys_error("chroot");
    if (::chdir("/") != 0) return sys_error("chdir /");
    return ok();
  }
  Fd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  Fd newroot(::open(ctx.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldroot || !newroot) return sys_error("open roots for pivot_root");
  if (::fchdir(newroot.get()) != 0) return sys_error("chdir rootfs");
  // pivot_root(".", ".") stacks the old root on top of the new one; it is
  // then detached without ever needing a directory for it in the image.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return sys_error("pivot_root");
  if (::fchdir(oldroot.get()) != 0) return sys_error("chdir old root");
  // Keep the unmount from propagating to the host's mounts.
  if (::mount("", ".", "", MS_SLAVE | MS_REC, nullptr) != 0) return sys_error("slave old root");
  if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach old root");
  if (::chdir("/") != 0) return sys_error("chdir /");
  return ok();
}

Result<void> finish_rootfs(const RootfsContext& ctx) {
  const oci::Spec& s = *ctx.spec;
  if (s.linux) {
    for (const auto& p : s.linux->masked_paths) {
      struct stat st;
      if (::stat(p.c_str(), &st) != 0) continue;  // nothing to hide
      int r = S_ISDIR(st.st_mode)
                  ? ::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, "size=0k,mode=755")
                  : ::mount("/dev/null", p.c_str(), "", MS_BIND, nullptr);
      if (r != 0) return sys_error(fmt::format("mask {}", p));
    }
    for (const auto& p : s.linux->readonly_paths) {
      if (::access(p.c_str(), F_OK) != 0) continue;
      if (::mount(p.c_str(), p.c_str(), "", MS_BIND | MS_REC, nullptr) != 0)
        return sys_error(fmt::format("bind readonly path {}", p));
      unsigned long keep = statfs_locked_flags(p) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
      if (::mount("", p.c_str(), "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, nullptr) !=
          0)
        return sys_error(fmt::format("make {} read-only", p));
    }
  }
  if (s.root && s.root->readonly) {
    unsigned long keep = statfs_locked_flags("/") & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (::mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY | keep, nullptr) != 0)
      return sys_error("make rootfs read-only");
  }
  if (s.linux && !s.linux->rootfs_propagation.empty()) {
    unsigned long p = propagation_flag(s.linux->rootfs_propagation);
    if (::mount("", "/", "", p, nullptr) != 0) return sys_error("set rootfs propagation");
  }
  return ok();
}

Result<void> check_sysctls(const oci::Spec& s) {
  if (!s.linux) return ok();
  for (const auto& [key, value] : s.linux->sysctl) {
    const char* ns = nullptr;
    if (starts_with(key, "net."))
      ns = "network";
    else if (key == "kernel.domainname" || key == "kernel.hostname")
      ns = "uts";
    else if (starts_with(key, "fs.mqueue.") || key == "kernel.msgmax" || key == "kernel.msgmnb" ||
             key == "kernel.msgmni" || key == "kernel.sem" || key == "kernel.shmall" ||
             key == "kernel.shmmax" || key == "kernel.shmmni" || key == "kernel.shm_rmid_forced")
      ns = "ipc";
    if (!ns)
      return make_error(Errc::InvalidArgument,
                        "linux.sysctl: {:?} is not namespaced and would change the host", key);
    if (!has_namespace(s, ns, true) && !joins_foreign_namespace(s, ns))
      return make_error(Errc::InvalidArgument,
                        "linux.sysctl: {:?} needs a new {} namespace, or it would change the host",
                        key, ns);
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return make_error(Errc::InvalidArgument, "linux.sysctl: invalid key {:?}", key);
    (void)value;
  }
  return ok();
}

Result<void> apply_sysctls(const oci::Spec& s) {
  if (!s.linux) return ok();
  for (const auto& [key, value] : s.linux->sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    if (auto r = write_file(path, value); !r)
      return r.error().context(fmt::format("linux.sysctl {}={}", key, value));
  }
  return ok();
}

}  // namespace berth::runtime
