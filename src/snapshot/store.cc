// snapshot/store.cc — layout, keys, tmp dirs, commit, remove, list.
#include "snapshot/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/digest.h"
#include "base/log.h"
#include "base/strings.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > 128 || key[0] == '.' || key == "tmp") return false;
  for (char c : key) {
    bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    if (!okc) return false;
  }
  return true;
}

TmpDir::TmpDir(SnapshotStore* store, std::string name, std::string path)
    : store_(store), name_(std::move(name)), path_(std::move(path)) {
  store_->set_active(name_, true);
}

void TmpDir::release() {
  if (name_.empty()) return;
  store_->set_active(name_, false);
  name_.clear();
}

TmpDir::~TmpDir() {
  if (name_.empty()) return;
  auto r = remove_at(store_->tmp_fd(), name_);
  if (!r) log_warn("snapshot: cannot remove {}: {}", path_, r.error().message);
  store_->set_active(name_, false);
}

void SnapshotStore::set_active(const std::string& tmp_name, bool active) {
  std::lock_guard lk(mu_);
  if (active) {
    active_.insert(tmp_name);
  } else {
    active_.erase(tmp_name);
  }
}

namespace {

Result<std::vector<std::string>> read_dir_names(int fd, const std::string& what) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return sys_error("dup");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return sys_error(fmt::format("fdopendir {}", what));
  }
  ::rewinddir(d);
  std::vector<std::string> out;
  for (;;) {
    errno = 0;
    dirent* ent = ::readdir(d);
    if (!ent) {
      int err = errno;
      ::closedir(d);
      if (err) return sys_error(fmt::format("readdir {}", what), err);
      return out;
    }
    std::string_view n = ent->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
  }
}

Result<void> mkdir_p(const std::string& path) {
  std::string cur;
  for (const auto& part : split(path, '/', true)) {
    cur += "/" + part;
    if (::mkdir(cur.c_str(), 0711) != 0 && errno != EEXIST)
      return sys_error(fmt::format("mkdir {}", cur));
  }
  return ok();
}

}  // namespace

Result<void> SnapshotStore::init(const std::string& root, const SnapshotterOptions& opts) {
  if (root.empty() || root[0] != '/')
    return make_error(Errc::InvalidArgument, "snapshot root must be absolute: \"{}\"", root);
  root_ = root;
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  opts_ = opts;
  BERTH_TRY(mkdir_p(root_ + "/tmp"));
  root_fd_.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_) return sys_error(fmt::format("open {}", root_));
  tmp_fd_.reset(::openat(root_fd_.get(), "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!tmp_fd_) return sys_error(fmt::format("open {}/tmp", root_));
  uint64_t max = 0;
  for (const auto& n : BERTH_TRY(read_dir_names(root_fd_.get(), root_))) {
    if (auto v = parse_uint(n); v && *v > max) max = *v;
  }
  next_key_ = max + 1;
  return ok();
}

Result<TmpDir> SnapshotStore::make_tmp(bool with_fs) {
  std::string name = random_hex_id().substr(0, 16);
  if (::mkdirat(tmp_fd_.get(), name.c_str(), 0711) != 0)
    return sys_error(fmt::format("mkdir {}/tmp/{}", root_, name));
  TmpDir t(this, name, root_ + "/tmp/" + name);
  if (with_fs && ::mkdirat(tmp_fd_.get(), (name + "/fs").c_str(), 0755) != 0)
    return sys_error(fmt::format("mkdir {}/fs", t.path()));
  return t;
}

Result<std::string> SnapshotStore::commit(TmpDir& tmp) {
  if (opts_.durable) {
    Fd fd(::openat(tmp_fd_.get(), tmp.name().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::syncfs(fd.get()) != 0) return sys_error(fmt::format("syncfs {}", tmp.path()));
  }
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::string key = std::to_string(next_key_.fetch_add(1));
    if (::renameat2(tmp_fd_.get(), tmp.name().c_str(), root_fd_.get(), key.c_str(),
                    RENAME_NOREPLACE) == 0) {
      tmp.release();
      if (opts_.durable && ::fsync(root_fd_.get()) != 0)
        return sys_error(fmt::format("fsync {}", root_));
      return key;
    }
    if (errno != EEXIST) return sys_error(fmt::format("rename {} to {}", tmp.path(), key));
  }
  return make_error(Errc::Internal, "no free snapshot key under {}", root_);
}

Result<void> SnapshotStore::commit_as(TmpDir& tmp, const std::string& key, Durability d) {
  if (::renameat2(tmp_fd_.get(), tmp.name().c_str(), root_fd_.get(), key.c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return make_error(Errc::AlreadyExists, "snapshot {} already exists", key);
    return sys_error(fmt::format("rename {} to {}", tmp.path(), key));
  }
  tmp.release();
  if (opts_.durable && d == Durability::Durable && ::fsync(root_fd_.get()) != 0)
    return sys_error(fmt::format("fsync {}", root_));
  return ok();
}

Result<void> SnapshotStore::check_key(const std::string& key) const {
  if (!valid_key(key)) return make_error(Errc::InvalidArgument, "invalid snapshot key \"{}\"", key);
  struct stat st;
  if (::fstatat(root_fd_.get(), (key + "/fs").c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISDIR(st.st_mode))
    return make_error(Errc::NotFound, "snapshot {} not found", key);
  return ok();
}

Result<std::string> SnapshotStore::bury(const std::string& key) {
  if (!valid_key(key)) return make_error(Errc::InvalidArgument, "invalid snapshot key \"{}\"", key);
  // Out of list() first, atomically; the deletion itself may be cut short
  // and is then finished by clean_tmp().
  std::string grave = "rm-" + key + "-" + random_hex_id().substr(0, 8);
  set_active(grave, true);
  if (::renameat(root_fd_.get(), key.c_str(), tmp_fd_.get(), grave.c_str()) != 0) {
    int err = errno;
    set_active(grave, false);
    if (err == ENOENT) return std::string();
    return sys_error(fmt::format("remove snapshot {}", key), err);
  }
  return grave;
}

Result<void> SnapshotStore::remove(const std::string& key) {
  std::string grave = BERTH_TRY(bury(key));
  if (grave.empty()) return ok();
  auto r = remove_at(tmp_fd_.get(), grave);
  set_active(grave, false);  // on failure left for clean_tmp(), like an interrupted removal
  if (!r) return std::move(r).error().context(fmt::format("remove snapshot {}", key));
  return ok();
}

Result<void> SnapshotStore::remove_deferred(const std::string& key) {
  std::string grave = BERTH_TRY(bury(key));
  if (grave.empty()) return ok();
  reaper_.add([this, grave, key] {
    if (auto r = remove_at(tmp_fd_.get(), grave); !r)
      log_warn("snapshot: removing {}: {} (left for the next start)", key, r.error().message);
    set_active(grave, false);
  });
  return ok();
}

Result<std::vector<std::string>> SnapshotStore::list() const {
  std::vector<std::string> keys;
  for (auto& n : BERTH_TRY(read_dir_names(root_fd_.get(), root_))) {
    if (!valid_key(n)) continue;
    struct stat st;
    if (::fstatat(root_fd_.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
      keys.push_back(std::move(n));
  }
  return keys;
}

Result<void> SnapshotStore::clean_tmp() {
  for (const auto& n : BERTH_TRY(read_dir_names(tmp_fd_.get(), root_ + "/tmp"))) {
    {
      std::lock_guard lk(mu_);
      if (active_.contains(n)) continue;  // an apply or removal of this process
    }
    BERTH_TRY_CTX(remove_at(tmp_fd_.get(), n), fmt::format("clean {}/tmp", root_));
  }
  return ok();
}

}  // namespace berth::snapshot
