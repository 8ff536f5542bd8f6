#include "store/content/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/scope_exit.h"
#include "store/content/fs_util.h"
#include "store/content/ingest.h"
#include "store/content/layout.h"

namespace berth::content {

using detail::io_error;
using detail::Layout;

namespace {

Result<void> mkdir_p(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      cur = path.substr(0, i);
      if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
        return sys_error(fmt::format("create directory {}", cur));
    }
  }
  return ok();
}

Error not_found(const Digest& d) {
  return make_error(Errc::NotFound, "blob {} not found", d.str());
}

// Entries of a directory (no "." / ".."), with their d_type.
Result<std::vector<std::pair<std::string, unsigned char>>> read_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error(fmt::format("open directory {}", dir));
  std::vector<std::pair<std::string, unsigned char>> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") out.emplace_back(std::string(n), e->d_type);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return sys_error(fmt::format("read directory {}", dir), err);
  return out;
}

class LocalContentStore final : public ContentStore {
 public:
  explicit LocalContentStore(std::string root) : l_(std::move(root)) {}

  bool exists(const Digest& d) const override {
    return d.valid() && ::access(path(d).c_str(), F_OK) == 0;
  }

  Result<BlobInfo> info(const Digest& d) const override {
    struct stat st;
    if (!d.valid() || ::stat(path(d).c_str(), &st) != 0) {
      if (!d.valid() || errno == ENOENT) return not_found(d);
      return sys_error(fmt::format("stat {}", path(d)));
    }
    return BlobInfo{d, static_cast<int64_t>(st.st_size)};
  }

  std::string path(const Digest& d) const override { return l_.blob_path(d); }

  Result<Fd> open_blob(const Digest& d) const override {
    if (!d.valid()) return not_found(d);
    Fd fd(::open(path(d).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return not_found(d);
      return sys_error(fmt::format("open {}", path(d)));
    }
    return fd;
  }

  Result<std::string> read(const Digest& d, int64_t max_size) const override {
    Fd fd = BERTH_TRY(open_blob(d));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return sys_error(fmt::format("stat {}", path(d)));
    if (st.st_size > max_size)
      return make_error(Errc::InvalidArgument, "blob {} is {} bytes, more than the {} allowed",
                        d.str(), static_cast<int64_t>(st.st_size), max_size);
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error(fmt::format("read {}", path(d)));
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    return out;
  }

  Result<std::unique_ptr<Ingest>> ingest(std::string_view key) override {
    return detail::open_ingest(l_, key);
  }

  Result<BlobInfo> put(std::string_view data) override {
    Digest d = sha256_of(data);
    if (exists(d)) return BlobInfo{d, static_cast<int64_t>(data.size())};
    auto [fd, tmp] = BERTH_TRY(temp_file());
    ScopeExit cleanup([&] { ::unlink(tmp.c_str()); });
    BERTH_TRY(detail::write_fully(fd.get(), data, fmt::format("write {}", tmp)));
    if (::fsync(fd.get()) != 0) return io_error(fmt::format("fsync {}", tmp), errno);
    auto info = BERTH_TRY(detail::install_blob(l_, fd.get(), tmp, d, std::ssize(data)));
    cleanup.dismiss();
    return info;
  }

  Result<BlobInfo> put_file(const std::string& file) override {
    Fd src(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!src) return sys_error(fmt::format("open {}", file));
    Sha256 h;
    int64_t size = BERTH_TRY(detail::hash_fd(src.get(), h, file));
    Digest d = h.finish();
    if (exists(d)) {
      ::unlink(file.c_str());
      return BlobInfo{d, size};
    }
    // Same file system: fsync the file, then it becomes the blob by rename.
    // Only a plain file with one link may become a blob itself: a symlink
    // would be renamed as a link, and another hard link could change the
    // bytes after they were verified. Those are copied.
    struct stat lst;
    bool movable = ::lstat(file.c_str(), &lst) == 0 && S_ISREG(lst.st_mode) && lst.st_nlink == 1;
    if (movable && ::fsync(src.get()) == 0 && ::fchmod(src.get(), 0444) == 0) {
      std::string dst = path(d);
      if (::rename(file.c_str(), dst.c_str()) == 0) {
        BERTH_TRY(detail::fsync_dir(l_.blobs));
        return BlobInfo{d, size};
      }
      if (errno != EXDEV) return sys_error(fmt::format("rename {} to {}", file, dst));
    }
    // Elsewhere: copy into a temp file, hashing the copy (the bytes that land
    // in the store are the ones verified).
    auto [fd, tmp] = BERTH_TRY(temp_file());
    ScopeExit cleanup([&] { ::unlink(tmp.c_str()); });
    Sha256 h2;
    int64_t copied = BERTH_TRY(detail::hash_fd(src.get(), h2, file, fd.get()));
    Digest d2 = h2.finish();
    if (::fsync(fd.get()) != 0) return io_error(fmt::format("fsync {}", tmp), errno);
    auto info = BERTH_TRY(detail::install_blob(l_, fd.get(), tmp, d2, copied));
    cleanup.dismiss();
    ::unlink(file.c_str());
    return info;
  }

  Result<void> remove(const Digest& d) override {
    if (!d.valid()) return not_found(d);
    if (::unlink(path(d).c_str()) != 0) {
      if (errno == ENOENT) return not_found(d);
      return sys_error(fmt::format("remove {}", path(d)));
    }
    return ok();
  }

  Result<std::vector<BlobInfo>> list() const override {
    std::vector<BlobInfo> out;
    for (const auto& [name, type] : BERTH_TRY(read_dir(l_.blobs))) {
      auto d = Digest::from_hex(name);
      if (!d) continue;  // not a blob name
      struct stat st;
      if (::stat((l_.blobs + "/" + name).c_str(), &st) != 0) continue;  // removed meanwhile
      out.push_back(BlobInfo{*d, static_cast<int64_t>(st.st_size)});
    }
    return out;
  }

  Result<std::vector<IngestInfo>> list_ingests() const override {
    std::vector<IngestInfo> out;
    for (const auto& [name, type] : BERTH_TRY(read_dir(l_.ingest))) {
      std::string dir = l_.ingest + "/" + name;
      struct stat st;
      if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      IngestInfo info;
      Fd ref(::open((dir + "/ref").c_str(), O_RDONLY | O_CLOEXEC));
      if (ref) {
        char buf[4096];
        ssize_t n = ::read(ref.get(), buf, sizeof buf);
        if (n > 0) info.key.assign(buf, static_cast<size_t>(n));
      }
      struct stat ds;
      if (::stat((dir + "/data").c_str(), &ds) == 0) {
        info.size = ds.st_size;
        info.updated = detail::mtime_of(ds);
      } else {
        info.updated = detail::mtime_of(st);
      }
      out.push_back(std::move(info));
    }
    return out;
  }

  Result<int> prune_ingests(std::chrono::system_clock::time_point older_than) override {
    int removed = 0;
    for (const auto& [name, type] : BERTH_TRY(read_dir(l_.ingest))) {
      std::string p = l_.ingest + "/" + name;
      struct stat st;
      if (::lstat(p.c_str(), &st) != 0) continue;
      if (!S_ISDIR(st.st_mode)) {
        // A temp file of put/put_file left by a killed process.
        if (detail::mtime_of(st) < older_than && ::unlink(p.c_str()) == 0) ++removed;
        continue;
      }
      Fd lock = detail::try_lock_ingest_dir(p);
      if (!lock) continue;  // a writer holds it (or it just went away)
      struct stat ds;
      auto updated =
          ::stat((p + "/data").c_str(), &ds) == 0 ? detail::mtime_of(ds) : detail::mtime_of(st);
      if (updated >= older_than) continue;
      detail::remove_ingest_dir(p);
      ++removed;
    }
    return removed;
  }

  const std::string& root() const override { return l_.root; }

 private:
  // A temp file under ingest/ (same file system as blobs/, and never listed
  // as a blob); prune_ingests removes the ones a killed process left.
  Result<std::pair<Fd, std::string>> temp_file() const {
    std::string tmpl = l_.ingest + "/put.XXXXXX";
    Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
    if (!fd) return io_error(fmt::format("create temp file in {}", l_.ingest), errno);
    return std::pair<Fd, std::string>(std::move(fd), std::move(tmpl));
  }

  Layout l_;
};

}  // namespace

Result<std::unique_ptr<ContentStore>> ContentStore::open(const std::string& root) {
  if (root.empty()) return make_error(Errc::InvalidArgument, "content store root is empty");
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  Layout l(r);
  BERTH_TRY(mkdir_p(l.blobs));
  BERTH_TRY(mkdir_p(l.ingest));
  return std::unique_ptr<ContentStore>(new LocalContentStore(r));
}

}  // namespace berth::content
