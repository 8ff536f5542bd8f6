// engine/local_containers.cc — LocalContainerService: construction, the
// in-memory index, ps/inspect, events, counts.
#include "engine/local_containers.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/changes.h"
#include "engine/container_filters.h"
#include "engine/container_messages.h"
#include "engine/rootfs_mount.h"

namespace berth::engine {

Result<std::unique_ptr<ContainerService>> open_container_service(
    ContainerServiceOptions opts, ImageService& images,
    std::unique_ptr<metadata::MetadataStore> store, EventBus& events) {
  auto s =
      std::make_unique<LocalContainerService>(std::move(opts), images, std::move(store), events);
  BERTH_TRY(s->init());
  return std::unique_ptr<ContainerService>(std::move(s));
}

LocalContainerService::LocalContainerService(ContainerServiceOptions opts, ImageService& images,
                                             std::unique_ptr<metadata::MetadataStore> store,
                                             EventBus& events)
    : opts_(std::move(opts)), images_(images), store_(std::move(store)), events_(events) {}

LocalContainerService::~LocalContainerService() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  quit_ = true;
  cv_.notify_all();
  { std::lock_guard lk(work_mu_); }
  work_cv_.notify_all();
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (worker_.joinable()) worker_.join();
  if (watcher_.joinable()) watcher_.join();
  // Monitors keep running (live restore): only our subscriptions close.
  watched_.clear();
  if (epfd_ >= 0) ::close(epfd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Result<void> LocalContainerService::init() {
  if (auto l = cgroups::detect_layout()) cgroup_layout_ = *l;
  {
    auto own = read_file("/proc/self/cgroup");
    warmer_ = std::make_unique<CgroupWarmer>(own ? own_procs_file(cgroup_layout_, *own) : "");
  }
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return make_error(Errc::Internal, "epoll_create1: {}", strerror(errno));
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return make_error(Errc::Internal, "eventfd: {}", strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  if (opts_.pooled_monitors) {
    // Every config path has this length: ids are 64 hex digits.
    monitor_pool_ = std::make_unique<monitor::MonitorPool>(
        opts_.monitor_binary, ctr_dir(std::string(64, '0')).size() + sizeof "/monitor.json" - 1);
  }
  watcher_ = std::thread([this] { watcher_loop(); });
  worker_ = std::thread([this] { worker_loop(); });
  BERTH_TRY(restore());
  if (monitor_pool_) monitor_pool_->fill();
  return {};
}

Result<pid_t> LocalContainerService::spawn_monitor(const std::string& id,
                                                   const monitor::MonitorConfig& mc) {
  std::string config = ctr_dir(id) + "/monitor.json";
  if (monitor_pool_) return monitor_pool_->spawn(config, mc);
  return monitor::spawn(opts_.monitor_binary, config, mc);
}

// ---- paths -------------------------------------------------------------------

std::string LocalContainerService::ctr_dir(const std::string& id) const {
  return opts_.data_root + "/containers/" + id;
}
std::string LocalContainerService::exec_dir(const std::string& id) const {
  return opts_.exec_root + "/containers/" + id;
}
std::string LocalContainerService::socket_path(const std::string& id) const {
  return exec_dir(id) + "/monitor.sock";
}
std::string LocalContainerService::log_path(const std::string& id,
                                            const std::string& driver) const {
  if (driver == "local") return ctr_dir(id) + "/local-logs/container.log";
  return ctr_dir(id) + "/" + id + "-json.log";
}
std::string LocalContainerService::exit_file(const std::string& id) const {
  return ctr_dir(id) + "/exit.json";
}

// ---- index -------------------------------------------------------------------

Result<LocalContainerService::CtrPtr> LocalContainerService::find_locked(
    const std::string& name) const {
  if (name.empty()) return msg::no_such_container(name);
  if (auto it = containers_.find(name); it != containers_.end()) return it->second;
  std::string n = name[0] == '/' ? name.substr(1) : name;
  if (auto it = names_.find(n); it != names_.end()) return containers_.at(it->second);
  // Unambiguous id prefix.
  CtrPtr found;
  for (auto it = containers_.lower_bound(name); it != containers_.end(); ++it) {
    if (!starts_with(it->first, name)) break;
    if (found) {
      return make_error(Errc::InvalidArgument, "multiple IDs found with provided prefix: {}", name);
    }
    found = it->second;
  }
  if (!found) return msg::no_such_container(name);
  return found;
}

Result<LocalContainerService::CtrPtr> LocalContainerService::find(const std::string& name) const {
  std::lock_guard lk(mu_);
  return find_locked(name);
}

Result<void> LocalContainerService::persist_state_locked(const Ctr& c) {
  if (c.removed) return {};
  auto r = store_->update_container_state(c.id, encode_state(c.state));
  if (!r) log_warn("container {}: saving state: {}", c.id.substr(0, 12), r.error().message);
  return r;
}

void LocalContainerService::publish_locked(const Ctr& c, const std::string& action,
                                           std::map<std::string, std::string> extra) {
  Event e;
  e.type = "container";
  e.action = action;
  e.actor_id = c.id;
  e.attributes = c.cfg.config.labels;
  e.attributes["name"] = c.name;
  e.attributes["image"] = c.cfg.config.image;
  for (auto& [k, v] : extra) e.attributes[k] = v;
  events_.publish(std::move(e));
}

void LocalContainerService::publish(const Ctr& c, const std::string& action,
                                    std::map<std::string, std::string> extra) {
  std::lock_guard lk(mu_);
  publish_locked(c, action, std::move(extra));
}

namespace {

// docker's SizeRw (bytes in the container's writable layer) and SizeRootFs
// (that plus the image's size). image_sizes caches image sizes per call.
void fill_sizes(ImageService& images, const std::string& id, const std::string& image_id,
                std::map<std::string, int64_t>& image_sizes, int64_t& rw, int64_t& rootfs) {
  auto dir = images.container_changes_dir(id);
  rw = dir ? tree_size(*dir) : 0;
  auto it = image_sizes.find(image_id);
  if (it == image_sizes.end()) {
    auto d = images.inspect(image_id);
    it = image_sizes.emplace(image_id, d ? d->summary.size : 0).first;
  }
  rootfs = rw + it->second;
}

}  // namespace

ContainerSummary LocalContainerService::summary_locked(const Ctr& c) const {
  ContainerSummary s;
  s.id = c.id;
  s.names = {"/" + c.name};
  s.image = c.cfg.config.image;
  s.image_id = c.image_id.str();
  // dockerd's form: an argument with a space is wrapped in single quotes
  // (no escaping), so `sh -c 'a b'` reads as typed.
  s.command = c.cfg.path;
  for (const std::string& a : c.cfg.args)
    s.command += a.find(' ') == std::string::npos ? " " + a : " '" + a + "'";
  s.created = c.created_ns / 1'000'000'000;
  s.labels = c.cfg.config.labels;
  s.state = c.state;
  s.network_mode =
      c.cfg.host_config.network_mode.empty() ? "default" : c.cfg.host_config.network_mode;
  s.isolation = c.cfg.host_config.isolation;
  bool running = c.state.status == "running" || c.state.status == "paused";
  if (opts_.networks && running) s.port_bindings = opts_.networks->ports_of(c.id);
  for (const auto& [port, b] : c.cfg.host_config.port_bindings) s.published_ports.push_back(port);
  s.exposed_ports = c.cfg.config.exposed_ports;
  s.networks = endpoint_views_locked(c);
  s.mounts = c.cfg.mounts;
  return s;
}

Result<std::vector<ContainerSummary>> LocalContainerService::list(const ListOptions& o) {
  FilterResolvers res;
  // parse() runs without mu_ held (it may ask the image service).
  res.container = [this](const std::string& n) -> Result<ContainerSummary> {
    std::lock_guard g(mu_);
    auto c = BERTH_TRY(find_locked(n));
    return summary_locked(*c);
  };
  res.image_id = [this](const std::string& ref) -> std::optional<std::string> {
    auto d = images_.inspect(ref);
    if (!d) return std::nullopt;
    return d->summary.id.str();
  };
  std::map<std::string, int64_t> created;
  std::unique_lock lk(mu_);
  for (auto& [id, c] : containers_) created[id] = c->created_ns;
  res.order_key = [&created](const ContainerSummary& s) {
    auto it = created.find(s.id);
    return it == created.end() ? s.created * 1'000'000'000 : it->second;
  };
  // Image lookups must not run under mu_ (the image service may be slow);
  // ancestor resolution happens inside parse, so release around it.
  lk.unlock();
  auto filter = ContainerFilter::parse(o.filters, res);
  lk.lock();
  if (!filter) return filter.error();
  std::vector<const Ctr*> all;
  for (auto& [id, c] : containers_) all.push_back(c.get());
  std::sort(all.begin(), all.end(), [](const Ctr* a, const Ctr* b) {
    return a->created_ns != b->created_ns ? a->created_ns > b->created_ns : a->id > b->id;
  });
  bool all_states = o.all || o.limit > 0;
  std::vector<ContainerSummary> out;
  for (const Ctr* c : all) {
    if (c->removed) continue;
    bool running = c->state.status == "running" || c->state.status == "paused" ||
                   c->state.status == "restarting";
    if (!all_states && !running && !filter->implies_all()) continue;
    ContainerSummary s = summary_locked(*c);
    if (!filter->matches(s)) continue;
    out.push_back(std::move(s));
    if (o.limit > 0 && static_cast<int>(out.size()) >= o.limit) break;
  }
  lk.unlock();
  if (o.size) {
    std::map<std::string, int64_t> image_sizes;
    for (auto& s : out)
      fill_sizes(images_, s.id, s.image_id, image_sizes, s.size_rw, s.size_root_fs);
  }
  return out;
}

void LocalContainerService::read_health(const std::string& id, ContainerState& s) const {
  auto h = monitor::read_health_file(ctr_dir(id) + "/health.json");
  if (!h) return;
  s.health_failing_streak = h->failing_streak;
  s.health_log.clear();
  for (const auto& l : h->log)
    s.health_log.push_back({l.start_ns, l.end_ns, l.exit_code, l.output});
}

Result<ContainerDetail> LocalContainerService::inspect(const std::string& name, bool size) {
  auto d = BERTH_TRY(detail_of(name));
  // The monitor goes on probing after the status settles, but tells the
  // engine only of status changes: the streak and the last probes come from
  // its health file, as fresh as dockerd's.
  bool live = d.state.status == "running" || d.state.status == "paused";
  if (live && !d.state.health_status.empty()) read_health(d.id, d.state);
  if (size) {
    std::map<std::string, int64_t> image_sizes;
    fill_sizes(images_, d.id, d.image_id, image_sizes, d.size_rw, d.size_root_fs);
  }
  return d;
}

Result<ContainerDetail> LocalContainerService::detail_of(const std::string& name) {
  std::lock_guard lk(mu_);
  auto c = BERTH_TRY(find_locked(name));
  ContainerDetail d;
  d.id = c->id;
  d.created_ns = c->created_ns;
  d.path = c->cfg.path;
  d.args = c->cfg.args;
  d.state = c->state;
  d.image_id = c->image_id.str();
  std::string dir = ctr_dir(c->id);
  d.resolv_conf_path = dir + "/resolv.conf";
  d.hostname_path = dir + "/hostname";
  d.hosts_path = dir + "/hosts";
  // docker shows the path of json-file logs only.
  const std::string& log_type = c->cfg.host_config.log_config.type;
  d.log_path = log_type.empty() || log_type == "json-file" ? log_path(c->id, log_type) : "";
  d.name = "/" + c->name;
  d.driver = c->cfg.driver;
  d.platform = c->cfg.platform;
  d.exec_ids = c->exec_ids;
  d.config = c->cfg.config;
  d.host_config = c->cfg.host_config;
  d.host_config.links = link_display_locked(*c);
  // NetworkSettings.Ports: every exposed or published port, bound ones with
  // the host side they got.
  for (const auto& p : c->cfg.config.exposed_ports)
    d.ports[p.find('/') == std::string::npos ? p + "/tcp" : p];
  for (const auto& [p, b] : c->cfg.host_config.port_bindings) d.ports[p];
  bool running = c->state.status == "running" || c->state.status == "paused";
  if (opts_.networks && running) {
    for (auto& [p, b] : opts_.networks->ports_of(c->id)) d.ports[p] = b;
    std::string ns = spec_netns_path(*c);
    if (!ns.empty()) d.sandbox_key = ns;
  }
  d.networks = endpoint_views_locked(*c);
  d.mounts = c->cfg.mounts;
  // GraphDriver.Data as docker's overlay2 gives it (people browse MergedDir
  // from the host; it is mounted there while the container runs).
  for (const auto& m : decode_rootfs_mounts(c->cfg.rootfs_mounts)) {
    if (m.type != "overlay") continue;
    for (const std::string& o : m.options) {
      auto eq = o.find('=');
      if (eq == std::string::npos) continue;
      std::string k = o.substr(0, eq), v = o.substr(eq + 1);
      if (k == "lowerdir") d.graph_driver_data["LowerDir"] = v;
      if (k == "upperdir") d.graph_driver_data["UpperDir"] = v;
      if (k == "workdir") d.graph_driver_data["WorkDir"] = v;
    }
    d.graph_driver_data["MergedDir"] = dir + "/bundle/rootfs";
  }
  return d;
}

void LocalContainerService::set_default_log_config(std::string driver,
                                                   std::map<std::string, std::string> opts) {
  std::lock_guard lk(mu_);
  default_log_driver_ = driver.empty() ? "json-file" : std::move(driver);
  default_log_opts_ = std::move(opts);
}

std::string LocalContainerService::default_log_driver() const {
  std::lock_guard lk(mu_);
  return default_log_driver_;
}

ContainerService::Runtimes LocalContainerService::runtimes() const {
  Runtimes r;
  r.default_name = opts_.default_runtime.empty() ? "berth" : opts_.default_runtime;
  r.paths = opts_.runtimes;
  r.paths["berth"] = "berth-runtime";
  return r;
}

ContainerService::Counts LocalContainerService::counts() {
  std::lock_guard lk(mu_);
  Counts n;
  for (auto& [id, c] : containers_) {
    if (c->removed) continue;
    ++n.total;
    if (c->state.status == "running" || c->state.status == "restarting") {
      ++n.running;
    } else if (c->state.status == "paused") {
      ++n.paused;
    } else {
      ++n.stopped;
    }
  }
  return n;
}

}  // namespace berth::engine
