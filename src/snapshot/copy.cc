// snapshot/copy.cc — the plain-copy snapshotter (no overlayfs).
#include <fcntl.h>
#include <unistd.h>

#include "snapshot/drivers.h"
#include "snapshot/extract.h"
#include "snapshot/fs_ops.h"
#include "snapshot/layer_reader.h"

namespace berth::snapshot {

Result<std::unique_ptr<CopySnapshotter>> CopySnapshotter::open(const std::string& root,
                                                               const SnapshotterOptions& opts) {
  std::unique_ptr<CopySnapshotter> s(new CopySnapshotter());
  BERTH_TRY(s->init(root, opts));
  return s;
}

Result<ApplyResult> CopySnapshotter::apply_layer(const std::string& parent_key, ByteSource src) {
  if (!parent_key.empty()) BERTH_TRY(check_key(parent_key));
  TmpDir tmp = BERTH_TRY(make_tmp(parent_key.empty()));
  if (!parent_key.empty()) BERTH_TRY(copy_tree(fs_dir(parent_key), tmp.path() + "/fs"));
  Fd fs(::openat(tmp_fd(), (tmp.name() + "/fs").c_str(),
                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fs) return sys_error(fmt::format("open {}/fs", tmp.path()));
  auto reader = BERTH_TRY(LayerReader::open(std::move(src)));
  int64_t size = BERTH_TRY(extract_layer(*reader, fs.get(), WhiteoutMode::Delete));
  Digest diff_id = BERTH_TRY(reader->finish());
  std::string key = BERTH_TRY(commit(tmp));
  return ApplyResult{key, diff_id, size};
}

Result<std::vector<std::string>> CopySnapshotter::layer_dirs(
    const std::vector<std::string>& keys_bottom_first) const {
  for (const auto& k : keys_bottom_first) BERTH_TRY(check_key(k));
  if (keys_bottom_first.empty()) return std::vector<std::string>{};
  return std::vector<std::string>{fs_dir(keys_bottom_first.back())};
}

Result<std::vector<Mount>> CopySnapshotter::prepare_rw(
    const std::string& rw_key, const std::vector<std::string>& keys_bottom_first, Durability d) {
  if (!valid_key(rw_key))
    return make_error(Errc::InvalidArgument, "invalid snapshot key \"{}\"", rw_key);
  for (const auto& k : keys_bottom_first) BERTH_TRY(check_key(k));
  TmpDir tmp = BERTH_TRY(make_tmp(keys_bottom_first.empty()));
  if (!keys_bottom_first.empty())
    BERTH_TRY(copy_tree(fs_dir(keys_bottom_first.back()), tmp.path() + "/fs"));
  BERTH_TRY(commit_as(tmp, rw_key, d));
  return std::vector<Mount>{Mount{"bind", fs_dir(rw_key), {"rbind", "rw"}}};
}

}  // namespace berth::snapshot
