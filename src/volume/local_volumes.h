// volume/local_volumes.h — docker's "local" volume driver: named volumes
// under <root>/<name>/_data with their records in the metadata store.
//
// On disk and crash order:
//  - create: mkdir <root>/<name>/_data, fsync <root>, then insert the row
//    (one transaction). A crash in between leaves a directory without a row;
//    open() removes it when empty and adopts it (as a named volume) when a
//    user already put data in it. A row never exists without its directory
//    (open() recreates a missing one and logs it).
//  - remove: rename <root>/<name> to <root>/.trash-<name>, delete the row,
//    then delete the tree. open() finishes an interrupted remove (a trash
//    entry whose row is still there) instead of resurrecting the volume.
// Options (docker's local driver): type, device, o. A volume with a device
// is mounted (mount(2) on _data) when its first holder asks (mount()) and
// unmounted when the last one lets go (unmount()); holders are in memory
// (the engine re-registers running containers at startup, then calls
// unmount_unheld() to take down mounts nobody holds).
// Names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (docker's message otherwise).
// Thread-safety: every method may be called from any thread; one mutex,
// never held while calling out of this module (a leaf lock).
// Depends on: base, sys, store/metadata.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/metadata/metadata.h"

namespace berth::volume {

inline constexpr const char* kLocalDriver = "local";

struct Volume {
  std::string name;
  std::string driver = kLocalDriver;
  std::string mountpoint;  // <root>/<name>/_data
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // driver options as given (type, device, o)
  int64_t created_ns = 0;
  bool anonymous = false;
};

struct CreateOptions {
  std::string name;    // "" = a random 64-hex name
  std::string driver;  // "" = local
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  bool anonymous = false;
};

// docker's rule for local volume names; InvalidArgument with docker's text
// ("\"a/b\" includes invalid characters for a local volume name, ...").
Result<void> validate_name(const std::string& name);
// 64 lowercase hex characters from the system's random source.
std::string random_name();
// Checks local driver options (keys type, device, o, size) as docker does:
// InvalidArgument `invalid option: "x"` and friends.
Result<void> validate_options(const std::map<std::string, std::string>& opts);

class LocalVolumes {
 public:
  // Opens (creating) `root`, loads the rows and repairs what a crash left
  // (see above). The store must be at schema version 5 or later.
  static Result<std::unique_ptr<LocalVolumes>> open(std::string root,
                                                    std::shared_ptr<metadata::MetadataStore> store);

  // Creates a volume; when the name exists already the existing volume is
  // returned and *created is false (docker's create is idempotent by name;
  // its options are not compared). InvalidArgument for bad names/options,
  // NotFound for a driver other than "local" (docker's plugin message).
  Result<Volume> create(const CreateOptions& o, bool* created = nullptr);
  // NotFound "no such volume" (callers add docker's "get NAME: " prefix).
  Result<Volume> get(const std::string& name) const;
  std::vector<Volume> list() const;
  // Deletes the row and the directory (unmounting a device first).
  // FailedPrecondition while the volume is mounted for a holder.
  Result<void> remove(const std::string& name);

  // Makes the volume's data available at its mountpoint for `holder` and
  // returns that path: the first holder of a volume with a device mounts it
  // (failure: Internal "failed to mount local volume: ..."). Idempotent per
  // holder.
  Result<std::string> mount(const std::string& name, const std::string& holder);
  // Drops `holder`; the last one unmounts the device. Unknown: no-op.
  Result<void> unmount(const std::string& name, const std::string& holder);
  // Unmounts device volumes that no holder holds (after the engine has
  // re-registered its running containers at startup).
  void unmount_unheld();

  // Bytes of regular files under the volume's _data (hard links once).
  Result<int64_t> size(const std::string& name) const;
  const std::string& root() const { return root_; }

 private:
  LocalVolumes(std::string root, std::shared_ptr<metadata::MetadataStore> store)
      : root_(std::move(root)), store_(std::move(store)) {}
  Result<void> load();
  std::string dir_of(const std::string& name) const { return root_ + "/" + name; }
  std::string data_of(const std::string& name) const { return dir_of(name) + "/_data"; }
  Volume from_row(const metadata::VolumeRow& r) const;
  bool mounted_locked(const std::string& name) const;

  std::string root_;
  std::shared_ptr<metadata::MetadataStore> store_;
  mutable std::mutex mu_;
  std::map<std::string, Volume> volumes_;
  std::map<std::string, std::set<std::string>> holders_;  // volume -> holders
};

}  // namespace berth::volume
