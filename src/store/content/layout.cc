#include "store/content/layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include "store/content/fs_util.h"

namespace berth::content::detail {

Result<BlobInfo> install_blob(const Layout& l, int fd, const std::string& tmp_path, const Digest& d,
                              int64_t size) {
  std::string dst = l.blob_path(d);
  struct stat st;
  if (::stat(dst.c_str(), &st) == 0) {
    // Same name means same bytes (it was verified when it was committed).
    ::unlink(tmp_path.c_str());
    return BlobInfo{d, static_cast<int64_t>(st.st_size)};
  }
  if (::fchmod(fd, 0444) != 0) return sys_error(fmt::format("chmod {}", tmp_path));
  // A concurrent commit of the same digest may rename first; rename(2)
  // replaces it atomically with identical bytes, so readers never see a gap.
  if (::rename(tmp_path.c_str(), dst.c_str()) != 0)
    return io_error(fmt::format("rename {} to {}", tmp_path, dst), errno);
  BERTH_TRY(fsync_dir(l.blobs));
  return BlobInfo{d, size};
}

}  // namespace berth::content::detail
