// engine/volumes.h — docker's volume verbs (create, ls, inspect, rm, prune)
// over the local driver (volume/local_volumes.h), and what the container
// service needs of volumes: references, mounts at start, copy-up.
//
// References: a volume is "in use" while any container (running or not)
// names it. The container service declares them: at create (acquire /
// add_reference, atomically with creating the volume, so a concurrent
// `volume rm` never removes a volume between its creation and its first
// reference), at startup for every stored container (add_reference), and at
// remove (release). remove/prune check them under the same lock, so "in
// use" answers are exact: `remove NAME: volume is in use - [ID]` (409).
// Errors: unknown volume -> NotFound "get NAME: no such volume"; bad names
// or options -> InvalidArgument "create NAME: ..." (docker's texts).
// Thread-safety: every method may be called from any thread. Its mutex is
// never held while calling other services, so the container service may
// call in while holding its own lock.
// Depends on: base, volume.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "engine/events.h"
#include "volume/local_volumes.h"

namespace berth::engine {

struct VolumeInfo {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;
  int64_t created_ns = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  std::string scope = "local";
  bool anonymous = false;
  // UsageData; -1 = not computed (docker: -1 when unknown).
  int64_t size = -1;
  int64_t ref_count = -1;
};

struct VolumeCreateRequest {
  std::string name;  // "" = a random 64-hex name
  std::string driver;
  std::map<std::string, std::string> driver_opts;
  std::map<std::string, std::string> labels;
};

struct VolumePruneReport {
  std::vector<std::string> deleted;
  int64_t space_reclaimed = 0;
};

// Docker's label for volumes made for one container (prune looks at it).
inline constexpr const char* kAnonymousLabel = "com.docker.volume.anonymous";

class VolumeService {
 public:
  // `data_root`/volumes holds the volumes; events go to `events`.
  static Result<std::unique_ptr<VolumeService>> open(const std::string& data_root,
                                                     std::shared_ptr<metadata::MetadataStore> store,
                                                     EventBus& events);

  // POST /volumes/create: an existing name returns that volume unchanged.
  Result<VolumeInfo> create(const VolumeCreateRequest& r);
  // GET /volumes. Filters: dangling (true|false|1|0), name (substring),
  // label (key or key=value), driver; others: "invalid filter 'x'".
  Result<std::vector<VolumeInfo>> list(const std::map<std::string, std::vector<std::string>>& f);
  Result<VolumeInfo> inspect(const std::string& name);
  // force: a missing volume is not an error; in use is, always (docker).
  Result<void> remove(const std::string& name, bool force);
  // Unused volumes; only anonymous ones unless `all` (API >= 1.42 without
  // all=true; older clients prune every unused volume). Filters: label,
  // label!, all.
  Result<VolumePruneReport> prune(const std::map<std::string, std::vector<std::string>>& f,
                                  bool anonymous_only);
  // Every volume with UsageData (size, reference count), for /system/df.
  Result<std::vector<VolumeInfo>> usage();

  // ---- for the container service --------------------------------------
  // Creates the volume when missing (anonymous: name "" gets a random name
  // and the anonymous label) and references it for `container` in one step.
  // *created says whether this call made it (so a failed container create
  // can remove exactly those). Errors as create().
  Result<VolumeInfo> acquire(const VolumeCreateRequest& r, bool anonymous,
                             const std::string& container, bool* created);
  // References an existing volume (--volumes-from, startup). NotFound when
  // the volume is gone.
  Result<void> add_reference(const std::string& name, const std::string& container);
  // Drops every reference of `container`, then removes the volumes named in
  // `remove` that nothing else references (rm -v, --rm: the ones the
  // container mounted anonymously). A volume the container mounted by name
  // stays even if it was made anonymous for another container, as docker's
  // (compose's recreate passes an old container's anonymous volume on by
  // name). Failures are logged, not returned (docker).
  void release(const std::string& container, const std::set<std::string>& remove = {});
  // Removes a volume this container's failed create made (no event checks).
  void discard(const std::string& name, const std::string& container);
  // Makes a volume's data ready for a start of `container`: mounts a device
  // volume for its first holder; when the volume is empty and copy_source
  // is set, it is called for a directory fd of the image's content at the
  // destination (an invalid Fd: nothing there) and that content is copied
  // in (copy-up). copy_source is not called for a volume with data, so a
  // start does not open the image's tree for nothing. Returns the host path.
  // `mount_attributes` go into the mount event beside container and driver
  // (docker's destination, read/write, propagation).
  Result<std::string> prepare_mount(const std::string& name, const std::string& container,
                                    const std::function<Result<Fd>()>& copy_source,
                                    std::map<std::string, std::string> mount_attributes = {});
  // Startup: `container` runs and already uses the volume's mount.
  Result<void> hold(const std::string& name, const std::string& container) {
    BERTH_TRY(local_->mount(name, container));
    return {};
  }
  // The container stopped: a device volume is unmounted after its last holder.
  void unmount(const std::string& name, const std::string& container);
  // After startup has re-registered the running containers' mounts.
  void unmount_unheld() { local_->unmount_unheld(); }

 private:
  VolumeService(std::unique_ptr<volume::LocalVolumes> local, EventBus& events)
      : local_(std::move(local)), events_(events) {}
  VolumeInfo info_of(const volume::Volume& v) const;
  std::vector<std::string> users_locked(const std::string& name) const;
  void publish(const std::string& action, const std::string& name,
               std::map<std::string, std::string> extra = {});

  std::unique_ptr<volume::LocalVolumes> local_;
  EventBus& events_;
  std::mutex mu_;                                      // refs_; taken before local_'s own lock
  std::map<std::string, std::set<std::string>> refs_;  // volume -> container ids
};

}  // namespace berth::engine
