// snapshot/overlay.cc — the overlay snapshotter and its probe.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "snapshot/drivers.h"
#include "snapshot/extract.h"
#include "snapshot/layer_reader.h"

namespace berth::snapshot {

Result<std::unique_ptr<OverlaySnapshotter>> OverlaySnapshotter::open(
    const std::string& root, const SnapshotterOptions& opts) {
  std::unique_ptr<OverlaySnapshotter> s(new OverlaySnapshotter());
  BERTH_TRY(s->init(root, opts));
  return s;
}

Result<ApplyResult> OverlaySnapshotter::apply_layer(const std::string& /*parent_key*/,
                                                    ByteSource src) {
  // Layers are independent in overlay form: the parent is not needed (and
  // may still be unpacking in another thread).
  TmpDir tmp = BERTH_TRY(make_tmp());
  Fd fs(::openat(tmp_fd(), (tmp.name() + "/fs").c_str(),
                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fs) return sys_error(fmt::format("open {}/fs", tmp.path()));
  auto reader = BERTH_TRY(LayerReader::open(std::move(src)));
  int64_t size = BERTH_TRY(extract_layer(*reader, fs.get(), WhiteoutMode::Overlay));
  Digest diff_id = BERTH_TRY(reader->finish());
  std::string key = BERTH_TRY(commit(tmp));
  return ApplyResult{key, diff_id, size};
}

Result<std::vector<std::string>> OverlaySnapshotter::layer_dirs(
    const std::vector<std::string>& keys_bottom_first) const {
  std::vector<std::string> dirs;
  for (auto it = keys_bottom_first.rbegin(); it != keys_bottom_first.rend(); ++it) {
    BERTH_TRY(check_key(*it));
    dirs.push_back(fs_dir(*it));
  }
  return dirs;
}

Result<std::vector<Mount>> OverlaySnapshotter::prepare_rw(
    const std::string& rw_key, const std::vector<std::string>& keys_bottom_first, Durability d) {
  if (!valid_key(rw_key))
    return make_error(Errc::InvalidArgument, "invalid snapshot key \"{}\"", rw_key);
  auto lowers = BERTH_TRY(layer_dirs(keys_bottom_first));
  TmpDir tmp = BERTH_TRY(make_tmp());
  if (::mkdirat(tmp_fd(), (tmp.name() + "/work").c_str(), 0700) != 0)
    return sys_error(fmt::format("mkdir {}/work", tmp.path()));
  BERTH_TRY(commit_as(tmp, rw_key, d));
  std::string upper = fs_dir(rw_key);
  if (lowers.empty()) return std::vector<Mount>{Mount{"bind", upper, {"rbind", "rw"}}};
  std::string lowerdir = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) lowerdir += (i ? ":" : "") + lowers[i];
  return std::vector<Mount>{
      Mount{"overlay",
            "overlay",
            {lowerdir, "upperdir=" + upper, "workdir=" + root_ + "/" + rw_key + "/work"}}};
}

Result<std::string> OverlaySnapshotter::changes_dir(const std::string& rw_key) const {
  BERTH_TRY(check_key(rw_key));
  return fs_dir(rw_key);
}

Result<void> OverlaySnapshotter::probe() {
  // overlay's option parser splits on ',' and lowerdir on ':'.
  if (root_.find_first_of(",:") != std::string::npos)
    return make_error(Errc::FailedPrecondition, "path {} contains ',' or ':'", root_);
  TmpDir tmp = BERTH_TRY(make_tmp(false));
  int t = tmp_fd();
  for (const char* d : {"lower", "upper", "work", "merged"}) {
    if (::mkdirat(t, (tmp.name() + "/" + d).c_str(), 0700) != 0)
      return sys_error(fmt::format("mkdir {}/{}", tmp.path(), d));
  }
  for (const char* f : {"lower/kept", "lower/hidden"}) {
    Fd fd(::openat(t, (tmp.name() + "/" + f).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    if (!fd) return sys_error(fmt::format("create {}/{}", tmp.path(), f));
  }
  if (::mknodat(t, (tmp.name() + "/upper/hidden").c_str(), S_IFCHR, makedev(0, 0)) != 0)
    return sys_error("mknod whiteout");
  const std::string& p = tmp.path();
  std::string merged = p + "/merged";
  std::string data = fmt::format("lowerdir={}/lower,upperdir={}/upper,workdir={}/work", p, p, p);
  if (::mount("overlay", merged.c_str(), "overlay", 0, data.c_str()) != 0)
    return sys_error("mount overlay");
  struct stat st;
  bool kept = ::stat((merged + "/kept").c_str(), &st) == 0;
  bool hidden = ::stat((merged + "/hidden").c_str(), &st) == 0;
  if (::umount2(merged.c_str(), 0) != 0) ::umount2(merged.c_str(), MNT_DETACH);
  if (!kept || hidden)
    return make_error(Errc::FailedPrecondition, "overlay mount does not honour whiteouts");
  return ok();
}

}  // namespace berth::snapshot
