// engine/local_containers_create.cc — create, remove, rename, update, prune.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <regex>
#include <set>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/container_messages.h"
#include "engine/hosts_files.h"
#include "engine/local_containers.h"
#include "engine/names_gen.h"
#include "engine/rootfs_mount.h"
#include "engine/spec_builder.h"
#include "engine/spec_builder_internal.h"
#include "engine/volumes.h"
#include "logs/json_file.h"
#include "oci/image_spec.h"
#include "oci/spec_codec.h"
#include "sys/signals.h"

namespace berth::engine {

namespace {

namespace fs = std::filesystem;

bool valid_name(const std::string& n) {
  static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
  return std::regex_match(n, re);
}

std::string random_id() {
  std::random_device rd;
  std::string out;
  static const char* hex = "0123456789abcdef";
  while (out.size() < 64) {
    uint32_t v = rd();
    for (int i = 0; i < 8 && out.size() < 64; ++i, v >>= 4) out.push_back(hex[v & 15]);
  }
  return out;
}

// The image's Healthcheck (docker's config JSON) for the fields the container
// did not set.
void merge_healthcheck(ContainerConfig& c, const Json& image_config) {
  auto it = image_config.find("Healthcheck");
  if (it == image_config.end() || !it->is_object()) return;
  const Json& h = *it;
  HealthcheckConfig& hc = c.healthcheck ? *c.healthcheck : c.healthcheck.emplace();
  auto num = [&](const char* k) -> int64_t {
    auto f = h.find(k);
    return f != h.end() && f->is_number_integer() ? f->get<int64_t>() : 0;
  };
  if (hc.test.empty()) {
    if (auto t = h.find("Test"); t != h.end() && t->is_array()) {
      for (const auto& x : *t) {
        if (x.is_string()) hc.test.push_back(x.get<std::string>());
      }
    }
  }
  if (hc.interval_ns == 0) hc.interval_ns = num("Interval");
  if (hc.timeout_ns == 0) hc.timeout_ns = num("Timeout");
  if (hc.start_period_ns == 0) hc.start_period_ns = num("StartPeriod");
  if (hc.start_interval_ns == 0) hc.start_interval_ns = num("StartInterval");
  if (hc.retries == 0) hc.retries = static_cast<int>(num("Retries"));
}

Result<void> validate_host_config(const HostConfig& h, const ContainerServiceOptions& o) {
  const auto& rp = h.restart_policy;
  if (!(rp.name.empty() || rp.name == "no" || rp.name == "always" || rp.name == "unless-stopped" ||
        rp.name == "on-failure")) {
    return make_error(Errc::InvalidArgument, "invalid restart policy '{}'", rp.name);
  }
  if (rp.maximum_retry_count < 0) {
    return make_error(Errc::InvalidArgument,
                      "invalid restart policy: maximum retry count cannot "
                      "be negative");
  }
  if (rp.maximum_retry_count > 0 && rp.name != "on-failure") {
    return make_error(Errc::InvalidArgument,
                      "invalid restart policy: maximum retry count can only be used with "
                      "'on-failure'");
  }
  if (h.auto_remove && !(rp.name.empty() || rp.name == "no")) {
    return make_error(Errc::InvalidArgument,
                      "can't create 'AutoRemove' container with restart policy");
  }
  const std::string& lt = h.log_config.type;
  if (!(lt.empty() || lt == "json-file" || lt == "local" || lt == "none")) {
    return make_error(Errc::InvalidArgument,
                      "failed to create logger: logger: no log driver named '{}' is registered",
                      lt);
  }
  if (lt != "none")
    BERTH_TRY(logs::parse_log_opts(h.log_config.config, lt.empty() ? "json-file" : lt));
  if (!h.runtime.empty() && h.runtime != "berth" && !o.runtimes.contains(h.runtime)) {
    return make_error(Errc::InvalidArgument, "unknown or invalid runtime name: {}", h.runtime);
  }
  return {};
}

// Layer directories of the rootfs, top first, for user lookup at create.
std::vector<std::string> layer_dirs(const std::vector<image::RootfsMount>& mounts) {
  std::vector<std::string> out;
  for (const auto& m : mounts) {
    if (m.type == "bind") {
      out.push_back(m.source);
      continue;
    }
    std::string upper;
    std::vector<std::string> lower;
    for (const auto& opt : m.options) {
      if (starts_with(opt, "upperdir=")) upper = opt.substr(9);
      if (starts_with(opt, "lowerdir=")) lower = split(opt.substr(9), ':', true);
    }
    if (!upper.empty()) out.push_back(upper);
    out.insert(out.end(), lower.begin(), lower.end());
  }
  return out;
}

// docker's CLI answers a 404 from create by pulling the image and creating
// again: an error of create that is not about the image (an unknown network,
// a --volumes-from container that does not exist) must not be a 404, or it
// hides behind a pull, or behind the pull's failure when the image is local.
Error not_an_image_404(Error e) {
  if (e.code == Errc::NotFound) e.code = Errc::InvalidArgument;
  return e;
}

}  // namespace

void LocalContainerService::remove_files(const std::string& id, bool defer) {
  auto dispose = [&](const std::string& path, const std::string& root) {
    std::error_code ec;
    if (defer) {
      trash(path, root);
    } else {
      fs::remove_all(path, ec);
    }
  };
  std::string dir = ctr_dir(id);
  unmount_shm(id);  // a tree with a mount in it must not be deleted
  std::string rootfs = dir + "/bundle/rootfs";
  for (int i = 0; i < 8 && ::umount2(rootfs.c_str(), MNT_DETACH) == 0; ++i) {
  }
  // Only a tree without a mount in it may be deleted (or trashed).
  if (::rmdir(rootfs.c_str()) != 0 && errno != ENOENT) {
    log_warn("container {}: keeping {}: {}", id.substr(0, 12), dir, strerror(errno));
  } else {
    dispose(dir, opts_.data_root);
  }
  dispose(exec_dir(id), opts_.exec_root);
}

void LocalContainerService::trash(const std::string& path, const std::string& root) {
  std::string bin = root + "/trash";
  if (::mkdir(bin.c_str(), 0700) != 0 && errno != EEXIST) {
    std::error_code ec;
    fs::remove_all(path, ec);
    return;
  }
  std::string to = bin + "/" + random_id().substr(0, 16);
  if (::rename(path.c_str(), to.c_str()) != 0) {
    std::error_code ec;
    if (errno != ENOENT) fs::remove_all(path, ec);
    return;
  }
  reaper_.add([to] {
    std::error_code ec;
    fs::remove_all(to, ec);
  });
}

void LocalContainerService::expect_requests() {
  if (warmer_) warmer_->poke();
}

Result<CreateResult> LocalContainerService::create(const CreateRequest& req) {
  CreateResult out;
  std::string name = req.name;
  if (!name.empty() && name[0] == '/') name = name.substr(1);
  if (!req.name.empty() && !valid_name(name)) return msg::invalid_name(req.name);
  if (req.config.image.empty()) return msg::no_such_image("");
  BERTH_TRY(validate_host_config(req.host_config, opts_));
  BERTH_TRY(check_namespace_conflicts(req.config, req.host_config));
  // A start usually follows at once (docker run): see engine/cgroup_warmer.h.
  if (warmer_) warmer_->poke();

  auto detail = images_.inspect(req.config.image);
  if (!detail) {
    // NotFound, in the image service's words ("No such image: busybox:latest").
    return detail.error();
  }
  if (!req.platform.empty()) {
    // docker: the image must match the platform asked for; nothing is created.
    auto want = image::Platform::parse(req.platform);
    if (!want) return want.error();
    bool ok =
        want->os == detail->os && want->architecture == detail->architecture &&
        (want->variant.empty() || detail->variant.empty() || want->variant == detail->variant);
    if (!ok) {
      std::string actual = detail->os + "/" + detail->architecture;
      if (!detail->variant.empty()) actual += "/" + detail->variant;
      return make_error(Errc::NotFound,
                        "image with reference {} was found but does not match the specified "
                        "platform: wanted {}, actual: {}",
                        req.config.image, want->str(), actual);
    }
  }
  StoredConfig sc;
  sc.config = req.config;
  sc.host_config = req.host_config;
  {
    // dockerd settles these defaults at create, so inspect shows what
    // applies: the IPC and cgroup namespace modes, /dev/shm's size, and
    // "unlimited" / "the kernel's default" as null rather than -1 or 0.
    HostConfig& h = sc.host_config;
    if (h.ipc_mode.empty()) h.ipc_mode = "private";
    if (h.cgroupns_mode.empty())
      h.cgroupns_mode = cgroup_layout_.version == cgroups::Version::V2 ? "private" : "host";
    if (h.shm_size == 0) h.shm_size = kDefaultShmSize;
    if (h.resources.pids_limit && *h.resources.pids_limit <= 0) h.resources.pids_limit.reset();
    if (h.resources.memory_swappiness == -1) h.resources.memory_swappiness.reset();
    if (!h.resources.oom_kill_disable) h.resources.oom_kill_disable = false;
    if (!h.privileged) {
      // The paths a start masks (unless --security-opt systempaths=unconfined).
      if (!h.masked_paths) h.masked_paths = spec_internal::default_masked_paths();
      if (!h.readonly_paths) h.readonly_paths = spec_internal::default_readonly_paths();
    }
  }
  {
    // dockerd's mergeAndVerifyLogConfig: a container without a driver gets
    // the daemon's, and the daemon's log-opts apply to a container of that
    // driver that brings no options of its own.
    auto& lc = sc.host_config.log_config;
    std::lock_guard lk(mu_);
    bool defaulted = lc.type.empty() && default_log_driver_ != "json-file";
    if (defaulted) lc.type = default_log_driver_;
    std::string type = lc.type.empty() ? "json-file" : lc.type;
    if (type == default_log_driver_ && lc.config.empty() && !default_log_opts_.empty()) {
      lc.type = type;
      lc.config = default_log_opts_;
    } else if (defaulted) {
      // The container's own options were checked against json-file.
      BERTH_TRY(logs::parse_log_opts(lc.config, lc.type));
    }
  }
  sc.networking_config = req.networking_config;
  sc.image_ref = req.config.image;
  sc.platform = "linux";
  sc.driver = images_.storage_driver();
  {
    auto ic = oci::decode_image_config(dump_json(detail->config));
    if (!ic) return ic.error();
    BERTH_TRY(merge_image_config(sc.config, ic->config));
    auto cfg = detail->config.find("config");
    if (cfg != detail->config.end() && cfg->is_object()) merge_healthcheck(sc.config, *cfg);
  }
  if (sc.host_config.log_config.type != "none") {
    // A bad labels-regex / env-regex now, not at start.
    BERTH_TRY(
        logs::log_attributes(sc.host_config.log_config.config, sc.config.labels, sc.config.env));
  }
  if (!sc.config.stop_signal.empty() && !sys::parse_signal(sc.config.stop_signal)) {
    return make_error(Errc::InvalidArgument, "Invalid signal: {}", sc.config.stop_signal);
  }
  // Volumes and binds are checked before anything exists.
  auto mount_plan = plan_container_mounts(sc);
  if (!mount_plan) return not_an_image_404(mount_plan.error());
  std::vector<std::string> argv;
  if (sc.config.entrypoint) argv = *sc.config.entrypoint;
  if (sc.config.cmd) argv.insert(argv.end(), sc.config.cmd->begin(), sc.config.cmd->end());
  if (argv.empty()) return make_error(Errc::InvalidArgument, "No command specified");
  sc.path = argv[0];
  sc.args.assign(argv.begin() + 1, argv.end());

  // Reserve the id and the name.
  auto c = std::make_shared<Ctr>();
  {
    std::lock_guard lk(mu_);
    do {
      c->id = random_id();
    } while (containers_.contains(c->id));
    if (!name.empty()) {
      if (auto it = names_.find(name); it != names_.end()) {
        return msg::name_in_use(name, it->second);
      }
    } else {
      for (int retry = 0;; ++retry) {
        name = generate_name(retry);
        if (!names_.contains(name)) break;
      }
    }
    names_[name] = c->id;
  }
  c->name = name;
  c->image_id = detail->summary.id;
  c->created_ns = unix_now_ns();
  if (sc.config.hostname.empty()) {
    // docker: the host's name in the host's network or UTS namespace.
    const HostConfig& h = sc.host_config;
    char host[256] = {};
    if ((h.network_mode == "host" || h.uts_mode == "host") &&
        ::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
      sc.config.hostname = host;
    } else {
      sc.config.hostname = c->id.substr(0, 12);
    }
  }
  c->cfg = sc;

  bool rootfs_made = false;
  MountUndo mount_undo;
  auto fail = [&](Error e) -> Error {
    if (rootfs_made) (void)images_.remove_container_rootfs(c->id);
    remove_files(c->id);
    undo_mounts(c->id, mount_undo);
    std::lock_guard lk(mu_);
    names_.erase(c->name);
    return not_an_image_404(std::move(e));
  };

  std::string dir = ctr_dir(c->id);
  std::error_code ec;
  fs::create_directories(dir + "/bundle/rootfs", ec);
  if (ec) return fail(make_error(Errc::Internal, "creating {}: {}", dir, ec.message()));
  ::chmod(dir.c_str(), 0710);

  if (auto m = resolve_mounts(*mount_plan, c->id, mount_undo); m) {
    c->cfg.mounts = std::move(*m);
  } else {
    return fail(m.error());
  }
  // A --rm container cannot outlive a reboot (restore removes it): its row
  // is written without fsync. Any other's row is the one durable commit of
  // its create: its layer and lease are written without (their lease shares
  // the row's SQLite WAL, so the row's commit makes it durable; restore
  // makes a layer a power loss took again, repair_container_rootfs).
  const Durability durability =
      c->cfg.host_config.auto_remove ? Durability::ProcessCrashSafe : Durability::Durable;
  auto mounts = images_.prepare_container_rootfs(c->id, c->image_id, Durability::ProcessCrashSafe);
  if (!mounts) return fail(mounts.error());
  rootfs_made = true;
  Json mj = Json::array();
  for (const auto& m : *mounts) {
    mj.push_back({{"type", m.type}, {"source", m.source}, {"options", m.options}});
  }
  c->cfg.rootfs_mounts = mj;
  if (auto v = validate_network(*c); !v) return fail(v.error());
  if (auto v = validate_joins(*c); !v) return fail(v.error());
  if (auto v = validate_links(*c); !v) return fail(v.error());
  if (auto w = write_bundle(*c, /*at_start=*/false, /*fresh_dir=*/true); !w) return fail(w.error());

  metadata::ContainerRow row;
  row.id = c->id;
  row.name = c->name;
  row.image = c->image_id;
  row.created_ns = c->created_ns;
  row.config = encode_stored_config(c->cfg);
  row.state = encode_state(c->state);
  if (auto r = store_->put_container(row, durability); !r) {
    if (r.error().code == Errc::Conflict) return fail(msg::name_in_use(c->name, "?"));
    return fail(r.error());
  }
  {
    std::lock_guard lk(mu_);
    containers_[c->id] = c;
    publish_locked(*c, "create");
  }
  if (opts_.standby_monitors) schedule(c->id, Work::Standby, 0);
  out.id = c->id;
  return out;
}

// The files a start hands to the monitor: the sources of /etc/hostname,
// /etc/hosts and /etc/resolv.conf, and bundle/config.json. They are renamed
// into place but not fsynced (ProcessCrashSafe): the container row, written
// durably after them, is the record; a power loss that lost or truncated
// them is repaired by ensure_bundle() at the next start. Create's first
// write (fresh_dir) creates them directly: until the row is committed the
// directory is nobody's, and a crash leaves it to restore's orphan cleanup.
Result<void> LocalContainerService::write_bundle(const Ctr& c, bool at_start, bool fresh_dir) {
  const std::string dir = ctr_dir(c.id);
  const auto& sc = c.cfg;
  HostsFilesInput hf;
  hf.dir = dir;
  hf.fresh_dir = fresh_dir;
  hf.hostname = sc.config.hostname;
  hf.domainname = sc.config.domainname;
  hf.extra_hosts = sc.host_config.extra_hosts;
  hf.dns = {sc.host_config.dns, sc.host_config.dns_search, sc.host_config.dns_options};
  hf.host_resolv = read_host_resolv_conf();
  // --add-host NAME:host-gateway: the default bridge's gateway (rewritten
  // with the container's own address at start, network_manager.h).
  if (opts_.networks) hf.host_gateway_ip = opts_.networks->host_gateway_ip();
  auto paths = BERTH_TRY(write_hosts_files(hf));

  std::vector<image::RootfsMount> mounts;
  for (const auto& m : decode_rootfs_mounts(sc.rootfs_mounts))
    mounts.push_back(image::RootfsMount{m.type, m.source, m.options});
  SpecInput si;
  si.id = c.id;
  si.config = sc.config;
  si.host_config = sc.host_config;
  si.rootfs_reader = layered_reader(layer_dirs(mounts));
  si.hostname_path = paths.hostname;
  si.hosts_path = paths.hosts;
  si.resolv_conf_path = paths.resolv_conf;
  si.init_path = opts_.init_binary;
  si.cgroup_version = cgroup_layout_.version;
  si.cgroup_parent = opts_.cgroup_parent;
  si.default_seccomp_profile = opts_.default_seccomp_profile;
  si.netns_path = spec_netns_path(c);
  si.volume_mounts = BERTH_TRY(oci_mounts(sc.mounts));
  if (sc.host_config.ipc_mode == "shareable") si.shm_path = shm_dir(c.id);
  BERTH_TRY(resolve_joins_locked(c, si, at_start));
  if (at_start) {
    // Link variables first: the container's own env wins (docker's order).
    std::vector<std::string> env;
    for (const auto& l : BERTH_TRY(resolve_links_locked(c))) {
      for (const auto& e : l.env) {
        std::string key = e.substr(0, e.find('='));
        bool own = std::any_of(sc.config.env.begin(), sc.config.env.end(),
                               [&](const std::string& x) { return x.starts_with(key + "="); });
        if (!own) env.push_back(e);
      }
    }
    si.config.env.insert(si.config.env.begin(), env.begin(), env.end());
  }
  auto spec = build_spec(si);
  if (!spec) {
    // A user or device the request names that does not exist is a bad
    // request, not a missing API object (which 404 would mean).
    Error e = spec.error();
    if (e.code == Errc::NotFound) e.code = Errc::InvalidArgument;
    return e;
  }
  std::string text = dump_json(oci::spec_to_json(*spec), 2);
  if (fresh_dir) return write_new_file(dir + "/bundle/config.json", text, 0644);
  return write_file_atomic(dir + "/bundle/config.json", text, 0644, Durability::ProcessCrashSafe);
}

Result<void> LocalContainerService::ensure_bundle(const Ctr& c) {
  // The namespaces, or the address and env for --link, of other containers'
  // current runs; block devices' current numbers.
  if (joins_namespaces(c.cfg.host_config) || !c.cfg.host_config.links.empty() ||
      has_block_io_devices(c.cfg.host_config.resources)) {
    return write_bundle(c, true);
  }
  const std::string dir = ctr_dir(c.id);
  bool intact = true;
  for (const char* f : {"/hostname", "/hosts", "/resolv.conf"}) {
    struct stat st;
    if (::stat((dir + f).c_str(), &st) != 0 || st.st_size == 0) intact = false;
  }
  if (intact) {
    auto text = read_file(dir + "/bundle/config.json");
    intact = text && Json::accept(*text);
  }
  if (intact) return {};
  log_warn("container {}: bundle files lost (power loss before writeback?), writing them again",
           c.id.substr(0, 12));
  return write_bundle(c);
}

Result<void> LocalContainerService::do_remove(const CtrPtr& c, bool force, bool remove_volumes) {
  std::string status;
  {
    std::lock_guard lk(mu_);
    if (c->removed) return msg::no_such_container(c->id);
    if (c->removing) return msg::already_removing(c->id);
    status = c->state.status;
  }
  bool live = status == "running" || status == "paused" || status == "restarting";
  if (live && !force) {
    return status == "paused" ? msg::remove_paused(c->id) : msg::remove_running(c->id);
  }
  {
    std::lock_guard lk(mu_);
    c->removing = true;
    if (c->state.status == "restarting") {
      c->state.status = "exited";
      c->state.stopped_by_user = true;
    }
  }
  bool monitor = false, released = false;
  {
    std::lock_guard lk(mu_);
    monitor = c->monitor_live;
    released = c->released && c->state.status == "exited";
  }
  if (monitor && !released) {
    if (auto mc = monitor::MonitorClient::connect(socket_path(c->id))) {
      auto st = (*mc)->state();
      if (st && st->status == "created") {
        (void)(*mc)->shutdown();
      } else {
        if (st && st->status == "paused") (void)(*mc)->resume();
        (void)(*mc)->kill(SIGKILL, true);
        publish(*c, "kill", {{"signal", "9"}});
      }
    }
    if (auto r = wait_monitor_gone(c, std::chrono::seconds(15)); !r) {
      std::lock_guard lk(mu_);
      c->removing = false;
      return r.error();
    }
  }
  {
    std::lock_guard lk(mu_);
    c->state.status = "removing";
  }
  release_network(c->id);
  if (auto r = images_.remove_container_rootfs(c->id); !r) {
    log_warn("container {}: removing its rootfs: {}", c->id.substr(0, 12), r.error().message);
  }
  // Gone from every list once renamed; deleting the files (the log, the
  // bundle) does not hold up the answer, nor a `run --rm`.
  remove_files(c->id, true);
  auto del = store_->delete_container(c->id);
  if (!del && del.error().code != Errc::NotFound) {
    std::lock_guard lk(mu_);
    c->removing = false;
    c->state.status = "dead";
    return del.error();
  }
  // A released monitor is draining its clients; its end unmounts the
  // container's volumes, which must precede their removal, and nothing of
  // the container may outlive the answer.
  if (monitor && released) {
    if (auto r = wait_monitor_gone(c, std::chrono::seconds(15)); !r)
      log_warn("container {}: {}", c->id.substr(0, 12), r.error().message);
  }
  // Volumes and bind data stay; with -v (or --rm) the volumes it mounted
  // anonymously go (not one it was given by name, as docker's).
  if (opts_.volumes) {
    std::set<std::string> anonymous;
    if (remove_volumes) {
      for (const auto& m : c->cfg.mounts)
        if (m.type == "volume" && m.anonymous) anonymous.insert(m.name);
    }
    opts_.volumes->release(c->id, anonymous);
  }
  std::vector<PendingAttach> pending;
  {
    std::lock_guard lk(mu_);
    c->removed = true;
    containers_.erase(c->id);
    if (auto it = names_.find(c->name); it != names_.end() && it->second == c->id) {
      names_.erase(it);
    }
    for (const auto& e : c->exec_ids) execs_.erase(e);
    pending.swap(c->pending);
    publish_locked(*c, "destroy");
  }
  cv_.notify_all();
  return {};
}

Result<void> LocalContainerService::remove(const std::string& name, bool force, bool volumes) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  return do_remove(c, force, volumes);
}

Result<void> LocalContainerService::rename(const std::string& name, const std::string& new_name) {
  auto c = BERTH_TRY(find(name));
  std::string n = !new_name.empty() && new_name[0] == '/' ? new_name.substr(1) : new_name;
  if (n.empty()) return make_error(Errc::InvalidArgument, "Neither old nor new names may be empty");
  if (!valid_name(n)) return msg::invalid_name(new_name);
  std::lock_guard op(c->op);
  {
    std::lock_guard lk(mu_);
    if (n == c->name) {
      return make_error(Errc::InvalidArgument,
                        "Renaming a container with the same name as its current name");
    }
    // dockerd's rename says where the conflict arose.
    auto in_use = [&](const std::string& id) {
      return msg::name_in_use(n, id).context("Error when allocating new name");
    };
    if (auto it = names_.find(n); it != names_.end()) return in_use(it->second);
    if (auto r = store_->rename_container(c->id, n); !r) {
      if (r.error().code == Errc::Conflict) return in_use("?");
      return r.error();
    }
    std::string old = c->name;
    names_.erase(old);
    names_[n] = c->id;
    c->name = n;
    publish_locked(*c, "rename", {{"oldName", "/" + old}});
  }
  // Other containers on its user networks resolve the new name at once, as
  // with docker (Ctr::op still held: no start or release in between).
  if (opts_.networks) opts_.networks->rename(c->id, n);
  return {};
}

namespace {

// OCI linux.resources for the fields an update sets.
Json update_resources_json(const Resources& r) {
  Json j = Json::object();
  Json mem = Json::object();
  if (r.memory > 0) mem["limit"] = r.memory;
  if (r.memory_reservation > 0) mem["reservation"] = r.memory_reservation;
  if (r.memory_swap != 0) mem["swap"] = r.memory_swap;
  if (!mem.empty()) j["memory"] = mem;
  Json cpu = Json::object();
  if (r.cpu_shares > 0) cpu["shares"] = r.cpu_shares;
  if (r.nano_cpus > 0) {
    cpu["period"] = 100000;
    cpu["quota"] = r.nano_cpus / 10000;
  }
  if (r.cpu_period > 0) cpu["period"] = r.cpu_period;
  if (r.cpu_quota > 0) cpu["quota"] = r.cpu_quota;
  if (!r.cpuset_cpus.empty()) cpu["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) cpu["mems"] = r.cpuset_mems;
  if (r.cpu_realtime_period > 0) cpu["realtimePeriod"] = r.cpu_realtime_period;
  if (r.cpu_realtime_runtime > 0) cpu["realtimeRuntime"] = r.cpu_realtime_runtime;
  if (!cpu.empty()) j["cpu"] = cpu;
  if (r.pids_limit) j["pids"] = {{"limit", *r.pids_limit > 0 ? *r.pids_limit : -1}};
  if (r.blkio_weight > 0) j["blockIO"] = {{"weight", r.blkio_weight}};
  return j;
}

}  // namespace

Result<std::vector<std::string>> LocalContainerService::update(const std::string& name,
                                                               const UpdateRequest& req) {
  auto c = BERTH_TRY(find(name));
  std::lock_guard op(c->op);
  const Resources& n = req.resources;
  if (n.memory > 0 && n.memory < 6 * 1024 * 1024) {
    return make_error(Errc::InvalidArgument, "Minimum memory limit allowed is 6MB");
  }
  // dockerd drops these from an update without a word; saying so is better
  // than a limit the user believes is in force.
  if (has_block_io_devices(n)) {
    return make_error(Errc::InvalidArgument,
                      "block I/O device limits (BlkioWeightDevice, BlkioDevice*Bps, "
                      "BlkioDevice*IOps) cannot be updated; recreate the container with them");
  }
  StoredConfig cfg;
  bool running = false;
  {
    std::lock_guard lk(mu_);
    cfg = c->cfg;
    running = c->state.status == "running" || c->state.status == "paused";
  }
  Resources& r = cfg.host_config.resources;
  if (n.cpu_shares) r.cpu_shares = n.cpu_shares;
  if (n.memory) r.memory = n.memory;
  if (n.nano_cpus) r.nano_cpus = n.nano_cpus;
  if (n.blkio_weight) r.blkio_weight = n.blkio_weight;
  if (n.cpu_period) r.cpu_period = n.cpu_period;
  if (n.cpu_quota) r.cpu_quota = n.cpu_quota;
  if (!n.cpuset_cpus.empty()) r.cpuset_cpus = n.cpuset_cpus;
  if (!n.cpuset_mems.empty()) r.cpuset_mems = n.cpuset_mems;
  if (n.memory_reservation) r.memory_reservation = n.memory_reservation;
  if (n.memory_swap) r.memory_swap = n.memory_swap;
  if (n.pids_limit) r.pids_limit = n.pids_limit;
  if (n.cpu_realtime_period < 0 || n.cpu_realtime_runtime < 0) {
    return make_error(Errc::InvalidArgument,
                      "--cpu-rt-period/--cpu-rt-runtime: must not be negative");
  }
  if (n.cpu_realtime_period) r.cpu_realtime_period = n.cpu_realtime_period;
  if (n.cpu_realtime_runtime) r.cpu_realtime_runtime = n.cpu_realtime_runtime;
  if (r.cpu_realtime_period > 0 && r.cpu_realtime_runtime > r.cpu_realtime_period) {
    return make_error(Errc::InvalidArgument, "cpu-rt-runtime cannot be higher than cpu-rt-period");
  }
  if (req.restart_policy) {
    RestartPolicy rp = *req.restart_policy;
    HostConfig probe = cfg.host_config;
    probe.restart_policy = rp;
    BERTH_TRY(validate_host_config(probe, opts_));
    cfg.host_config.restart_policy = rp;
  }
  if (running) {
    auto mc = BERTH_TRY(monitor::MonitorClient::connect(socket_path(c->id)));
    BERTH_TRY(mc->update(update_resources_json(n)));
  }
  metadata::ContainerRow row;
  {
    std::lock_guard lk(mu_);
    c->cfg = cfg;
    row.id = c->id;
    row.name = c->name;
    row.image = c->image_id;
    row.created_ns = c->created_ns;
    row.config = encode_stored_config(c->cfg);
    row.state = encode_state(c->state);
  }
  BERTH_TRY(store_->put_container(row));
  publish(*c, "update");
  return std::vector<std::string>{};
}

Result<ContainerPruneReport> LocalContainerService::prune(
    const std::map<std::string, std::vector<std::string>>& filters) {
  std::optional<int64_t> until_ns;
  std::vector<std::string> labels, not_labels;
  for (const auto& [k, vs] : filters) {
    if (k == "until") {
      for (const auto& v : vs) {
        auto n = parse_int(v);
        if (!n) return make_error(Errc::InvalidArgument, "invalid filter 'until={}'", v);
        until_ns = *n;
      }
    } else if (k == "label") {
      labels = vs;
    } else if (k == "label!") {
      not_labels = vs;
    } else {
      return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
    }
  }
  std::vector<CtrPtr> victims;
  {
    std::lock_guard lk(mu_);
    for (auto& [id, c] : containers_) {
      const auto& st = c->state.status;
      if (st != "exited" && st != "created" && st != "dead") continue;
      if (until_ns && c->created_ns > *until_ns) continue;
      auto has = [&](const std::string& l) {
        auto eq = l.find('=');
        auto it = c->cfg.config.labels.find(l.substr(0, eq));
        return it != c->cfg.config.labels.end() &&
               (eq == std::string::npos || it->second == l.substr(eq + 1));
      };
      bool ok = std::all_of(labels.begin(), labels.end(), has) &&
                std::none_of(not_labels.begin(), not_labels.end(), has);
      if (ok) victims.push_back(c);
    }
  }
  ContainerPruneReport rep;
  for (auto& c : victims) {
    std::lock_guard op(c->op);
    if (do_remove(c, false)) rep.deleted.push_back(c->id);
  }
  events_.publish(Event{"container", "prune", "", {{"reclaimed", "0"}}, "local", 0});
  return rep;
}

}  // namespace berth::engine
