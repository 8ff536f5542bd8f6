// engine/volumes.cc — VolumeService: docker's volume semantics (filters,
// references, prune, messages) over volume::LocalVolumes.
#include "engine/volumes.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "volume/copy_up.h"

namespace berth::engine {

namespace {

Error no_such_volume(const std::string& name) {
  return Error{Errc::NotFound, 0, fmt::format("get {}: no such volume", name)};
}

// docker wraps driver errors with the operation and the volume name.
Error create_error(const std::string& name, Error e) {
  e.message = fmt::format("create {}: {}", name, e.message);
  return e;
}

Result<bool> parse_bool_filter(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return make_error(Errc::InvalidArgument, "invalid filter '{}={}'", key, v);
}

// "key" or "key=value" against labels.
bool label_matches(const std::map<std::string, std::string>& labels, const std::string& f) {
  auto eq = f.find('=');
  auto it = labels.find(f.substr(0, eq));
  if (it == labels.end()) return false;
  return eq == std::string::npos || it->second == f.substr(eq + 1);
}

}  // namespace

Result<std::unique_ptr<VolumeService>> VolumeService::open(
    const std::string& data_root, std::shared_ptr<metadata::MetadataStore> store,
    EventBus& events) {
  auto local = BERTH_TRY(volume::LocalVolumes::open(data_root + "/volumes", std::move(store)));
  return std::unique_ptr<VolumeService>(new VolumeService(std::move(local), events));
}

VolumeInfo VolumeService::info_of(const volume::Volume& v) const {
  VolumeInfo i;
  i.name = v.name;
  i.driver = v.driver;
  i.mountpoint = v.mountpoint;
  i.created_ns = v.created_ns;
  i.labels = v.labels;
  i.options = v.options;
  i.anonymous = v.anonymous;
  return i;
}

std::vector<std::string> VolumeService::users_locked(const std::string& name) const {
  auto it = refs_.find(name);
  if (it == refs_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void VolumeService::publish(const std::string& action, const std::string& name,
                            std::map<std::string, std::string> extra) {
  Event e;
  e.type = "volume";
  e.action = action;
  e.actor_id = name;
  e.attributes = std::move(extra);
  if (!e.attributes.contains("driver")) e.attributes["driver"] = "local";
  events_.publish(std::move(e));
}

Result<VolumeInfo> VolumeService::create(const VolumeCreateRequest& r) {
  bool created = false;
  volume::CreateOptions o{r.name, r.driver, r.labels, r.driver_opts, false};
  auto v = local_->create(o, &created);
  if (!v) return create_error(r.name, v.error());
  if (created) publish("create", v->name, {{"driver", v->driver}});
  return info_of(*v);
}

Result<std::vector<VolumeInfo>> VolumeService::list(
    const std::map<std::string, std::vector<std::string>>& f) {
  std::optional<bool> dangling;
  for (const auto& [k, vs] : f) {
    if (k == "dangling") {
      for (const auto& v : vs) dangling = BERTH_TRY(parse_bool_filter(k, v));
    } else if (k != "name" && k != "label" && k != "driver") {
      return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
    }
  }
  auto values = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() ? std::vector<std::string>{} : it->second;
  };
  std::vector<VolumeInfo> out;
  std::lock_guard lk(mu_);
  for (const auto& v : local_->list()) {
    if (dangling && (*dangling == !users_locked(v.name).empty())) continue;
    auto names = values("name");
    if (!names.empty() && std::none_of(names.begin(), names.end(), [&](const std::string& n) {
          return v.name.find(n) != std::string::npos;
        }))
      continue;
    auto drivers = values("driver");
    if (!drivers.empty() && std::find(drivers.begin(), drivers.end(), v.driver) == drivers.end())
      continue;
    bool labels_ok = true;
    for (const auto& l : values("label")) labels_ok = labels_ok && label_matches(v.labels, l);
    if (!labels_ok) continue;
    out.push_back(info_of(v));
  }
  return out;
}

Result<VolumeInfo> VolumeService::inspect(const std::string& name) {
  auto v = local_->get(name);
  if (!v) return no_such_volume(name);
  return info_of(*v);
}

Result<void> VolumeService::remove(const std::string& name, bool force) {
  std::lock_guard lk(mu_);
  if (!local_->get(name)) {
    if (force) return {};
    return no_such_volume(name);
  }
  auto users = users_locked(name);
  if (!users.empty()) {
    return make_error(Errc::Conflict, "remove {}: volume is in use - [{}]", name,
                      join(users, ", "));
  }
  if (auto r = local_->remove(name); !r) {
    Error e = r.error();
    if (e.code == Errc::FailedPrecondition) e.code = Errc::Conflict;
    e.message = fmt::format("remove {}: {}", name, e.message);
    return e;
  }
  refs_.erase(name);
  publish("destroy", name);
  return {};
}

Result<VolumePruneReport> VolumeService::prune(
    const std::map<std::string, std::vector<std::string>>& f, bool anonymous_only) {
  std::vector<std::string> want, reject;
  for (const auto& [k, vs] : f) {
    if (k == "label") {
      want = vs;
    } else if (k == "label!") {
      reject = vs;
    } else if (k == "all") {
      for (const auto& v : vs) anonymous_only = !BERTH_TRY(parse_bool_filter(k, v));
    } else {
      return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
    }
  }
  VolumePruneReport rep;
  std::lock_guard lk(mu_);
  for (const auto& v : local_->list()) {
    if (!users_locked(v.name).empty()) continue;
    if (anonymous_only && !v.anonymous && !v.labels.contains(kAnonymousLabel)) continue;
    bool ok = true;
    for (const auto& l : want) ok = ok && label_matches(v.labels, l);
    for (const auto& l : reject) ok = ok && !label_matches(v.labels, l);
    if (!ok) continue;
    int64_t size = local_->size(v.name).value_or(0);
    if (auto r = local_->remove(v.name); !r) {
      log_warn("volume prune: {}: {}", v.name, r.error().message);
      continue;
    }
    refs_.erase(v.name);
    rep.deleted.push_back(v.name);
    rep.space_reclaimed += size;
    publish("destroy", v.name);
  }
  events_.publish(Event{
      "volume", "prune", "", {{"reclaimed", std::to_string(rep.space_reclaimed)}}, "local", 0});
  return rep;
}

Result<std::vector<VolumeInfo>> VolumeService::usage() {
  std::vector<VolumeInfo> out;
  std::vector<volume::Volume> all = local_->list();
  std::map<std::string, int64_t> refs;
  {
    std::lock_guard lk(mu_);
    for (const auto& v : all) refs[v.name] = static_cast<int64_t>(users_locked(v.name).size());
  }
  for (const auto& v : all) {
    VolumeInfo i = info_of(v);
    i.size = local_->size(v.name).value_or(-1);
    i.ref_count = refs[v.name];
    out.push_back(std::move(i));
  }
  return out;
}

Result<VolumeInfo> VolumeService::acquire(const VolumeCreateRequest& r, bool anonymous,
                                          const std::string& container, bool* created) {
  volume::CreateOptions o{r.name, r.driver, r.labels, r.driver_opts, anonymous};
  if (anonymous) o.labels[kAnonymousLabel] = "";
  bool made = false;
  std::lock_guard lk(mu_);
  auto v = local_->create(o, &made);
  if (!v) return create_error(r.name, v.error());
  refs_[v->name].insert(container);
  if (created) *created = made;
  if (made) publish("create", v->name, {{"driver", v->driver}});
  return info_of(*v);
}

Result<void> VolumeService::add_reference(const std::string& name, const std::string& container) {
  std::lock_guard lk(mu_);
  if (!local_->get(name)) return no_such_volume(name);
  refs_[name].insert(container);
  return {};
}

void VolumeService::release(const std::string& container, const std::set<std::string>& remove) {
  std::vector<std::string> removed;
  {
    std::lock_guard lk(mu_);
    for (auto it = refs_.begin(); it != refs_.end();) {
      if (it->second.erase(container) == 0) {
        ++it;
        continue;
      }
      std::string name = it->first;
      bool unused = it->second.empty();
      it = unused ? refs_.erase(it) : std::next(it);
      if (!unused || !remove.contains(name)) continue;
      if (auto r = local_->remove(name); !r) {
        log_warn("volume {}: removing with its container: {}", name, r.error().message);
        continue;
      }
      removed.push_back(name);
    }
  }
  for (const auto& n : removed) publish("destroy", n);
}

void VolumeService::discard(const std::string& name, const std::string& container) {
  std::lock_guard lk(mu_);
  if (auto it = refs_.find(name); it != refs_.end()) {
    it->second.erase(container);
    if (!it->second.empty()) return;
    refs_.erase(it);
  }
  if (auto r = local_->remove(name); !r) {
    log_warn("volume {}: removing after a failed create: {}", name, r.error().message);
  }
}

Result<std::string> VolumeService::prepare_mount(const std::string& name,
                                                 const std::string& container,
                                                 const std::function<Result<Fd>()>& copy_source,
                                                 std::map<std::string, std::string> attributes) {
  auto path = local_->mount(name, container);
  if (!path) {
    if (path.error().code == Errc::NotFound) return no_such_volume(name);
    return path.error();
  }
  if (copy_source && volume::dir_is_empty(*path)) {
    auto copied = [&]() -> Result<void> {
      Fd src = BERTH_TRY(copy_source());
      if (src) BERTH_TRY(volume::copy_up(src.get(), *path));
      return {};
    }();
    if (!copied) {
      (void)local_->unmount(name, container);
      return std::move(copied).error().context(
          fmt::format("copying image content into volume {}", name));
    }
  }
  attributes["container"] = container;
  publish("mount", name, std::move(attributes));
  return *path;
}

void VolumeService::unmount(const std::string& name, const std::string& container) {
  if (auto r = local_->unmount(name, container); !r) {
    log_warn("volume {}: unmount: {}", name, r.error().message);
    return;
  }
  publish("unmount", name, {{"container", container}});
}

}  // namespace berth::engine
