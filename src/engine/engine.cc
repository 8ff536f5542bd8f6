#include "engine/engine.h"

#include <fmt/format.h>

#include <filesystem>

#include "base/log.h"
#include "base/strings.h"

namespace berth::engine {

Result<std::unique_ptr<Engine>> Engine::create(EngineOptions opts,
                                               std::unique_ptr<ImageService> images) {
  if (!images) return make_error(Errc::InvalidArgument, "engine: no image service");
  if (opts.data_root.empty()) return make_error(Errc::InvalidArgument, "engine: no data root");
  auto id = BERTH_TRY(load_or_create_engine_id(opts.data_root));
  {
    // Builds a dead daemon left behind (no build runs before create returns).
    std::error_code ec;
    std::filesystem::remove_all(opts.data_root + "/builds", ec);
    if (ec) log_warn("removing stale build directories: {}", ec.message());
  }
  HostInfo host = probe_host(opts.os_release_path, opts.mountinfo_path);
  return std::unique_ptr<Engine>(
      new Engine(std::move(opts), std::move(images), std::move(id), std::move(host)));
}

Engine::Engine(EngineOptions opts, std::unique_ptr<ImageService> images, std::string id,
               HostInfo host)
    : opts_(std::move(opts)),
      images_(std::move(images)),
      events_(opts_.event_buffer),
      id_(std::move(id)),
      host_(std::move(host)) {
  images_->set_event_sink([this](const ImageEvent& ie) {
    Event e;
    e.type = "image";
    e.action = ie.action;
    e.actor_id = ie.id;
    e.attributes = ie.attributes;
    events_.publish(std::move(e));
  });
}

Engine::~Engine() {
  // The service may outlive nothing that refers to the bus: detach first.
  images_->set_event_sink(nullptr);
}

Result<SystemInfo> Engine::info() {
  SystemInfo s;
  s.id = id_;
  s.host = host_;
  s.driver = images_->storage_driver();
  s.docker_root_dir = opts_.data_root;
  s.server_version = opts_.version;
  ListFilters all;
  all.all = true;
  auto list = images_->list(all);
  if (!list) return list.error().context("list images");
  s.images = static_cast<int>(list->size());
  if (containers_) {
    auto n = containers_->counts();
    s.containers = n.total;
    s.containers_running = n.running;
    s.containers_paused = n.paused;
    s.containers_stopped = n.stopped;
  }
  auto r = reloadable();
  s.debug = r.debug;
  s.registry = r.registry;
  if (host_.cgroup_version.empty()) s.warnings.push_back("WARNING: cgroups not detected");
  return s;
}

VersionInfo Engine::version() const {
  VersionInfo v;
  v.version = opts_.version;
  v.git_commit = opts_.git_commit;
  v.arch = go_arch(host_.machine);
  v.kernel_version = host_.kernel_version;
  return v;
}

Result<DiskUsage> Engine::disk_usage() { return images_->disk_usage(); }

ReloadableOptions Engine::reloadable() const {
  std::lock_guard lk(mu_);
  return opts_.reloadable;
}

namespace {

std::string mirrors_str(const std::map<std::string, std::vector<std::string>>& m) {
  std::vector<std::string> parts;
  for (const auto& [host, urls] : m) parts.push_back(host + "=[" + join(urls, ",") + "]");
  return "{" + join(parts, " ") + "}";
}

}  // namespace

std::vector<std::string> Engine::reload(const ReloadableOptions& o) {
  std::vector<std::string> changes;
  ReloadableOptions old;
  {
    std::lock_guard lk(mu_);
    old = opts_.reloadable;
    opts_.reloadable = o;
  }
  if (old.registry.mirrors != o.registry.mirrors)
    changes.push_back(fmt::format("registry-mirrors: {} -> {}", mirrors_str(old.registry.mirrors),
                                  mirrors_str(o.registry.mirrors)));
  if (old.registry.insecure_registries != o.registry.insecure_registries)
    changes.push_back(fmt::format("insecure-registries: [{}] -> [{}]",
                                  join(old.registry.insecure_registries, ","),
                                  join(o.registry.insecure_registries, ",")));
  if (old.max_concurrent_downloads != o.max_concurrent_downloads)
    changes.push_back(fmt::format("max-concurrent-downloads: {} -> {}",
                                  old.max_concurrent_downloads, o.max_concurrent_downloads));
  if (old.max_concurrent_uploads != o.max_concurrent_uploads)
    changes.push_back(fmt::format("max-concurrent-uploads: {} -> {}", old.max_concurrent_uploads,
                                  o.max_concurrent_uploads));
  if (old.debug != o.debug) changes.push_back(fmt::format("debug: {} -> {}", old.debug, o.debug));
  images_->set_registry_options(o.registry, o.max_concurrent_downloads, o.max_concurrent_uploads);
  Event e;
  e.type = "daemon";
  e.action = "reload";
  e.actor_id = id_;
  e.attributes["name"] = host_.hostname;
  e.attributes["debug"] = o.debug ? "true" : "false";
  e.attributes["max-concurrent-downloads"] = std::to_string(o.max_concurrent_downloads);
  e.attributes["max-concurrent-uploads"] = std::to_string(o.max_concurrent_uploads);
  e.attributes["insecure-registries"] = "[" + join(o.registry.insecure_registries, " ") + "]";
  events_.publish(std::move(e));
  return changes;
}

}  // namespace berth::engine
