#include "store/content/ingest.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/file.h"
#include "store/content/fs_util.h"

namespace berth::content::detail {

std::string ingest_dir_name(std::string_view key) { return sha256_of(key).hex(); }

Fd try_lock_ingest_dir(const std::string& dir) {
  Fd lock(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) return Fd();
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) return Fd();
  // The previous holder may have removed the ingest (commit, abort, prune)
  // between our open and our flock: a lock file without a name locks nothing.
  struct stat st;
  if (::fstat(lock.get(), &st) != 0 || st.st_nlink == 0) return Fd();
  return lock;
}

namespace {

class LocalIngest final : public Ingest {
 public:
  LocalIngest(const Layout& l, std::string key, std::string dir, Fd lock, Fd data, Sha256 hash,
              int64_t offset)
      : layout_(l),
        key_(std::move(key)),
        dir_(std::move(dir)),
        lock_(std::move(lock)),
        data_(std::move(data)),
        hash_(std::move(hash)),
        offset_(offset) {}

  int64_t offset() const override { return offset_; }

  Result<void> write(std::string_view data) override {
    BERTH_TRY(check_open());
    auto r = write_fully(data_.get(), data, fmt::format("write ingest {}", key_));
    if (!r) {
      // A short write may have put part of `data` on disk; cut it off so the
      // file matches the hash state and a retry (or a resume) stays correct.
      if (::ftruncate(data_.get(), offset_) != 0 || ::lseek(data_.get(), offset_, SEEK_SET) < 0) {
        discard();  // cannot restore a known state: start over next time
      }
      return r;
    }
    hash_.update(data);
    offset_ += static_cast<int64_t>(data.size());
    return ok();
  }

  Result<void> truncate() override {
    BERTH_TRY(check_open());
    if (::ftruncate(data_.get(), 0) != 0 || ::lseek(data_.get(), 0, SEEK_SET) < 0)
      return io_error(fmt::format("truncate ingest {}", key_), errno);
    hash_ = Sha256();
    offset_ = 0;
    return ok();
  }

  Result<BlobInfo> commit(int64_t expected_size, const Digest& expected) override {
    BERTH_TRY(check_open());
    std::string what = expected.valid() ? expected.str() : key_;
    if (expected_size >= 0 && offset_ != expected_size) {
      int64_t got = offset_;
      discard();
      return make_error(Errc::InvalidArgument, "size mismatch for {}: expected {} bytes, got {}",
                        what, expected_size, got);
    }
    Digest got = hash_.finish();
    finished_ = true;  // the hash is spent; a failed commit below leaves data for a resume
    if (expected.valid() && got != expected) {
      discard();
      return make_error(Errc::InvalidArgument, "digest mismatch: expected {}, got {}",
                        expected.str(), got.str());
    }
    std::string data_path = dir_ + "/data";
    if (::fsync(data_.get()) != 0) return io_error(fmt::format("fsync {}", data_path), errno);
    BlobInfo info = BERTH_TRY(install_blob(layout_, data_.get(), data_path, got, offset_));
    discard();  // removes ref and lock (data was renamed away or unlinked)
    return info;
  }

  void abort() override { discard(); }

 private:
  Result<void> check_open() const {
    if (!data_ || finished_)
      return make_error(Errc::FailedPrecondition, "ingest {} is closed", key_);
    return ok();
  }
  // Deletes the partial write while still holding the lock.
  void discard() {
    if (!lock_) return;
    data_.reset();
    remove_ingest_dir(dir_);
    lock_.reset();
    finished_ = true;
  }

  Layout layout_;
  std::string key_;
  std::string dir_;
  Fd lock_;
  Fd data_;
  Sha256 hash_;
  int64_t offset_ = 0;
  bool finished_ = false;
};

Result<Fd> lock_for_write(const std::string& dir, std::string_view key) {
  // Bounded: each retry means another process removed the directory in the
  // instant between our mkdir and our flock.
  for (int attempt = 0; attempt < 16; ++attempt) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return sys_error(fmt::format("create ingest directory {}", dir));
    Fd lock(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock) {
      if (errno == ENOENT) continue;
      return sys_error(fmt::format("open {}/lock", dir));
    }
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        return Error{Errc::Unavailable, EWOULDBLOCK, fmt::format("ingest {} is in use", key)};
      return sys_error(fmt::format("flock {}/lock", dir));
    }
    struct stat st;
    if (::fstat(lock.get(), &st) != 0) return sys_error(fmt::format("fstat {}/lock", dir));
    if (st.st_nlink == 0) continue;
    return lock;
  }
  return make_error(Errc::Unavailable, "ingest {} keeps being removed while opening it", key);
}

}  // namespace

Result<std::unique_ptr<Ingest>> open_ingest(const Layout& l, std::string_view key) {
  std::string dir = l.ingest + "/" + ingest_dir_name(key);
  Fd lock = BERTH_TRY(lock_for_write(dir, key));
  std::string ref = dir + "/ref";
  if (::access(ref.c_str(), F_OK) != 0) {
    // The key is informational (list_ingests); losing it to a power cut only
    // blanks the name shown, so no fsync.
    auto r = write_file_atomic(ref, key, 0600, Durability::ProcessCrashSafe);
    if (!r && r.error().sys_errno != 0)
      return io_error(fmt::format("write {}", ref), r.error().sys_errno);
    if (!r) return r.error();
  }
  std::string data_path = dir + "/data";
  Fd data(::open(data_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!data) return io_error(fmt::format("open {}", data_path), errno);
  // Resume: whatever an earlier writer left is re-read to rebuild the hash
  // state; the commit verifies it all anyway.
  Sha256 hash;
  int64_t offset = BERTH_TRY(hash_fd(data.get(), hash, data_path));
  if (::lseek(data.get(), offset, SEEK_SET) < 0)
    return sys_error(fmt::format("seek {}", data_path));
  ::futimens(data.get(), nullptr);  // "updated" now: prune must not take a resumed ingest
  return std::unique_ptr<Ingest>(new LocalIngest(l, std::string(key), std::move(dir),
                                                 std::move(lock), std::move(data), std::move(hash),
                                                 offset));
}

}  // namespace berth::content::detail
