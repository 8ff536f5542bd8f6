// snapshot/store.h — what both snapshotters share: the root layout, key
// allocation, tmp dirs, commit, removal and listing (internal).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/fd.h"
#include "base/reaper.h"
#include "snapshot/snapshotter.h"

namespace berth::snapshot {

// Keys: [A-Za-z0-9_.-]{1,128}, not starting with '.', not "tmp".
bool valid_key(const std::string& key);

class SnapshotStore;

// A tmp dir root/tmp/<name> holding fs/ (and work/); removed on destruction
// unless committed. Registered with its store so clean_tmp() spares it.
class TmpDir {
 public:
  TmpDir(SnapshotStore* store, std::string name, std::string path);
  TmpDir(TmpDir&& o) noexcept
      : store_(o.store_), name_(std::move(o.name_)), path_(std::move(o.path_)) {
    o.name_.clear();
  }
  TmpDir(const TmpDir&) = delete;
  TmpDir& operator=(const TmpDir&) = delete;
  TmpDir& operator=(TmpDir&&) = delete;
  ~TmpDir();
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }  // absolute
  void release();                                    // committed: renamed away, nothing to remove

 private:
  SnapshotStore* store_;
  std::string name_;
  std::string path_;
};

class SnapshotStore : public Snapshotter {
 public:
  Result<void> remove(const std::string& key) override;
  Result<void> remove_deferred(const std::string& key) override;
  void wait_deferred() override { reaper_.drain(); }
  Result<std::vector<std::string>> list() const override;
  Result<void> clean_tmp() override;

  int tmp_fd() const { return tmp_fd_.get(); }

 protected:
  // Creates root and root/tmp, opens them, and starts the key counter
  // after the largest numeric key on disk (keys stay unique across
  // restarts; commit() also never overwrites).
  Result<void> init(const std::string& root, const SnapshotterOptions& opts);
  // A fresh root/tmp/<random> with an empty fs/ (fs/ absent when !with_fs).
  Result<TmpDir> make_tmp(bool with_fs = true);
  // syncfs (when durable), renames tmp to a new numeric key, fsyncs root.
  Result<std::string> commit(TmpDir& tmp);
  // Renames tmp to `key` exactly: AlreadyExists when it is taken. Fsyncs
  // root after it when durable and `d` is Durable.
  Result<void> commit_as(TmpDir& tmp, const std::string& key, Durability d);
  // NotFound unless root/<key>/fs is a directory.
  Result<void> check_key(const std::string& key) const;
  std::string fs_dir(const std::string& key) const { return root_ + "/" + key + "/fs"; }

  std::string root_;
  Fd root_fd_;
  Fd tmp_fd_;
  SnapshotterOptions opts_;
  std::atomic<uint64_t> next_key_{1};

 private:
  friend class TmpDir;
  void set_active(const std::string& tmp_name, bool active);
  // Renames key into a new tmp/ grave, registered active; "" when absent.
  Result<std::string> bury(const std::string& key);
  mutable std::mutex mu_;
  std::unordered_set<std::string> active_;  // tmp/ names in use (guarded by mu_)
  // Last: destroyed first, finishing its jobs while the fds above are open.
  Reaper reaper_;
};

}  // namespace berth::snapshot
