// engine/engine.h — Docker semantics over berth's services; what api/server
// calls. The Engine owns the per-domain services (images now; containers,
// volumes and networks join as members of the same shape: a service object
// plus the events it publishes) and the daemon-wide state: event bus,
// identity, reloadable options, system info.
// Thread-safety: every method may be called from any thread.
// Depends on: base, cgroups, image, monitor, volume (and later network).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/builder.h"
#include "engine/containers.h"
#include "engine/events.h"
#include "engine/images.h"
#include "engine/networks.h"
#include "engine/system.h"
#include "engine/volumes.h"

namespace berth::engine {

// The options `berthd` may change on SIGHUP.
struct ReloadableOptions {
  registry::Options registry;
  int max_concurrent_downloads = 3;
  int max_concurrent_uploads = 5;
  bool debug = false;
};

struct EngineOptions {
  std::string data_root;
  std::string exec_root;
  std::string version = "0.1.0";
  std::string git_commit;
  ReloadableOptions reloadable;
  size_t event_buffer = 1024;
  std::string os_release_path = "/etc/os-release";
  std::string mountinfo_path = "/proc/self/mountinfo";
};

struct SystemInfo {
  std::string id;
  HostInfo host;
  std::string driver;
  std::string docker_root_dir;
  std::string server_version;
  int images = 0;
  int containers = 0, containers_running = 0, containers_paused = 0, containers_stopped = 0;
  bool debug = false;
  registry::Options registry;
  std::vector<std::string> warnings;
};

struct VersionInfo {
  std::string version;
  std::string git_commit;
  std::string os = "linux";
  std::string arch;  // GOARCH spelling
  std::string kernel_version;
};

class Engine {
 public:
  // Takes the image service and routes its events to the bus. Loads (or
  // creates) the engine id under data_root.
  static Result<std::unique_ptr<Engine>> create(EngineOptions opts,
                                                std::unique_ptr<ImageService> images);
  ~Engine();

  ImageService& images() { return *images_; }
  // The container domain; set once by the daemon's wiring right after
  // create() (it needs the engine's event bus). Null until then (tests of
  // the image routes run without one; routes answer 501).
  ContainerService* containers() { return containers_.get(); }
  void set_containers(std::unique_ptr<ContainerService> c) { containers_ = std::move(c); }
  // The network domain; set by the daemon's wiring before set_containers
  // (the container service uses it). Null in tests without networks.
  NetworkService* networks() { return networks_.get(); }
  void set_networks(std::unique_ptr<NetworkService> n) { networks_ = std::move(n); }
  // The volume domain; set by the daemon's wiring before the containers
  // (they keep a pointer to it). Null until then (routes answer 501).
  VolumeService* volumes() { return volumes_.get(); }
  void set_volumes(std::unique_ptr<VolumeService> v) { volumes_ = std::move(v); }
  EventBus& events() { return events_; }

  // POST /build: extracts the context tar into a directory of its own under
  // the data root and runs the builder (engine/builder.h) on it; the
  // directory goes with the build. NotImplemented without containers.
  Result<Digest> build(const ByteSourceFn& tar, const BuildOptions& o, const BuildSink& out);

  Result<SystemInfo> info();
  VersionInfo version() const;
  Result<DiskUsage> disk_usage();

  // Applies reloadable options; returns one line per change ("debug: false -> true").
  std::vector<std::string> reload(const ReloadableOptions& o);
  ReloadableOptions reloadable() const;

 private:
  Engine(EngineOptions opts, std::unique_ptr<ImageService> images, std::string id, HostInfo host);
  EngineOptions opts_;
  std::unique_ptr<ImageService> images_;
  EventBus events_;
  std::unique_ptr<NetworkService> networks_;
  std::unique_ptr<VolumeService> volumes_;
  // After events_, images_, networks_ and volumes_: destroyed first, while
  // they still exist (the container service points to them).
  std::unique_ptr<ContainerService> containers_;
  std::string id_;
  HostInfo host_;
  mutable std::mutex mu_;  // guards opts_.reloadable
};

}  // namespace berth::engine
