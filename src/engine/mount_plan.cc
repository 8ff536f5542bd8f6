// engine/mount_plan.cc — docker's parsing and validation of -v, --mount and
// --volumes-from (its volume/mounts linux parser), as a pure function.
#include "engine/mount_plan.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine {

namespace {

const std::set<std::string>& propagation_modes() {
  static const std::set<std::string> m = {"private", "rprivate", "shared",
                                          "rshared", "slave",    "rslave"};
  return m;
}

// docker's linuxValidMountMode: known words, at most one of each kind.
bool valid_mode(const std::string& mode) {
  if (mode.empty()) return true;
  int rw = 0, label = 0, prop = 0, copy = 0, consistency = 0;
  for (const std::string& o : split(mode, ',')) {
    if (o == "rw" || o == "ro") {
      ++rw;
    } else if (o == "z" || o == "Z") {
      ++label;
    } else if (propagation_modes().contains(o)) {
      ++prop;
    } else if (o == "nocopy") {
      ++copy;
    } else if (o == "consistent" || o == "cached" || o == "delegated") {
      ++consistency;
    } else {
      return false;
    }
  }
  return rw <= 1 && label <= 1 && prop <= 1 && copy <= 1 && consistency <= 1;
}

bool mode_has(const std::string& mode, const std::string& word) {
  auto w = split(mode, ',');
  return std::find(w.begin(), w.end(), word) != w.end();
}

std::string mode_propagation(const std::string& mode) {
  for (const std::string& o : split(mode, ','))
    if (propagation_modes().contains(o)) return o;
  return "";
}

// docker's mount.Mount, as the API (or ParseMountRaw) gives it.
struct Spec {
  std::string type, source, target;
  bool read_only = false;
  bool has_bind = false;  // BindOptions present
  std::string propagation;
  bool non_recursive = false, create_mountpoint = false;
  bool has_volume = false;  // VolumeOptions present
  bool nocopy = false;
  std::string driver, subpath;
  std::map<std::string, std::string> driver_opts, labels;
  bool has_tmpfs = false;  // TmpfsOptions present
  int64_t tmpfs_size = 0;
  uint32_t tmpfs_mode = 0;
};

Error mount_config_error(const Spec& s, const std::string& what) {
  return Error{Errc::InvalidArgument, 0,
               fmt::format("invalid mount config for type \"{}\": {}", s.type, what)};
}

// docker's ConvertTmpfsOptions: "ro", "mode=<octal>", "size=<n>[kmg]".
std::string tmpfs_data(const Spec& s) {
  std::vector<std::string> o;
  if (s.read_only) o.push_back("ro");
  if (s.tmpfs_mode != 0) o.push_back(fmt::format("mode={:o}", s.tmpfs_mode));
  if (s.tmpfs_size != 0) {
    int64_t n = s.tmpfs_size;
    std::string suffix;
    for (auto [suf, div] :
         {std::pair<const char*, int64_t>{"g", 1LL << 30}, {"m", 1LL << 20}, {"k", 1LL << 10}}) {
      if (n % div == 0) {
        n /= div;
        suffix = suf;
        break;
      }
    }
    o.push_back(fmt::format("size={}{}", n, suffix));
  }
  return join(o, ",");
}

// docker's validateMountConfig + parseMountSpec.
Result<PlannedMount> to_planned(const Spec& s, bool bind_must_exist,
                                const std::function<bool(const std::string&)>& exists) {
  if (s.target.empty()) return mount_config_error(s, "field Target must not be empty");
  if (clean_mount_path(s.target) == "/") {
    return mount_config_error(s, "invalid specification: destination can't be '/'");
  }
  if (s.target[0] != '/') {
    return mount_config_error(
        s, fmt::format("invalid mount path: '{}' mount path must be absolute", s.target));
  }
  PlannedMount p;
  ContainerMount& m = p.mount;
  m.type = s.type;
  m.destination = clean_mount_path(s.target);
  m.rw = !s.read_only;
  if (s.type == "bind") {
    if (s.source.empty()) return mount_config_error(s, "field Source must not be empty");
    if (s.has_bind && !s.propagation.empty() && !propagation_modes().contains(s.propagation)) {
      return mount_config_error(s, "invalid propagation mode: " + s.propagation);
    }
    if (s.has_volume) return mount_config_error(s, "field VolumeOptions must not be specified");
    if (s.has_tmpfs) return mount_config_error(s, "field TmpfsOptions must not be specified");
    if (s.source[0] != '/') {
      return mount_config_error(
          s, fmt::format("invalid mount path: '{}' mount path must be absolute", s.source));
    }
    m.source = clean_mount_path(s.source);
    if (bind_must_exist && !s.create_mountpoint && !exists(m.source)) {
      return mount_config_error(s, "bind source path does not exist: " + m.source);
    }
    p.create_host_path = !bind_must_exist || s.create_mountpoint;
    m.propagation = s.propagation.empty() ? "rprivate" : s.propagation;
    m.non_recursive = s.non_recursive;
  } else if (s.type == "volume") {
    if (s.has_bind) return mount_config_error(s, "field BindOptions must not be specified");
    if (s.has_tmpfs) return mount_config_error(s, "field TmpfsOptions must not be specified");
    if (!s.subpath.empty()) {
      return make_error(Errc::NotImplemented, "VolumeOptions.Subpath is not supported");
    }
    if (s.source.empty() && s.read_only) {
      return mount_config_error(s, "must not set ReadOnly mode when using anonymous volumes");
    }
    m.name = s.source;
    m.anonymous = s.source.empty();
    m.driver = s.driver.empty() ? "local" : s.driver;
    m.copy_data = !s.nocopy;
    p.volume_driver = s.driver;
    p.volume_options = s.driver_opts;
    p.volume_labels = s.labels;
  } else if (s.type == "tmpfs") {
    if (s.has_bind) return mount_config_error(s, "field BindOptions must not be specified");
    if (s.has_volume) return mount_config_error(s, "field VolumeOptions must not be specified");
    if (!s.source.empty()) return mount_config_error(s, "field Source must not be specified");
    if (s.tmpfs_size < 0) return mount_config_error(s, "invalid tmpfs size");
    m.tmpfs_options = tmpfs_data(s);
  } else {
    return mount_config_error(s, "mount type unknown");
  }
  return p;
}

// One HostConfig.Binds entry (docker's ParseMountRaw on Linux).
Result<PlannedMount> parse_bind(const std::string& raw,
                                const std::function<bool(const std::string&)>& exists) {
  auto invalid_spec = [&]() {
    return make_error(Errc::InvalidArgument, "invalid volume specification: '{}'", raw);
  };
  std::vector<std::string> arr;
  {
    // strings.SplitN(raw, ":", 4)
    size_t start = 0;
    while (arr.size() < 3) {
      auto c = raw.find(':', start);
      if (c == std::string::npos) break;
      arr.push_back(raw.substr(start, c - start));
      start = c + 1;
    }
    arr.push_back(raw.substr(start));
  }
  if (arr[0].empty()) return invalid_spec();
  Spec s;
  std::string mode;
  switch (arr.size()) {
    case 1:
      s.target = arr[0];
      break;
    case 2:
      // "/foo:rw": a destination with a mode is not a volume.
      if (valid_mode(arr[1])) return invalid_spec();
      s.source = arr[0];
      s.target = arr[1];
      break;
    case 3:
      s.source = arr[0];
      s.target = arr[1];
      mode = arr[2];
      break;
    default:
      return invalid_spec();
  }
  if (!valid_mode(mode)) return make_error(Errc::InvalidArgument, "invalid mode: {}", mode);
  s.type = !s.source.empty() && s.source[0] == '/' ? "bind" : "volume";
  s.read_only = mode_has(mode, "ro");
  if (mode_has(mode, "nocopy")) {
    s.has_volume = true;
    s.nocopy = true;
  }
  if (!mode_propagation(mode).empty()) {
    s.has_bind = true;
    s.propagation = mode_propagation(mode);
  }
  auto p = to_planned(s, false, exists);
  if (!p) {
    return make_error(Errc::InvalidArgument, "invalid volume specification: '{}': {}", raw,
                      p.error().message);
  }
  p->mount.mode = mode;
  // docker's setBindModeIfNull for local volumes.
  if (p->mount.type == "volume" && p->mount.mode.empty()) p->mount.mode = "z";
  return p;
}

// Typed reads of the raw Bind/Volume/TmpfsOptions JSON, naming the field.
Result<void> opt_string(const Json& o, const char* key, const std::string& where,
                        std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_string()) {
    return make_error(Errc::InvalidArgument, "{}.{}: expected a string", where, key);
  }
  out = it->get<std::string>();
  return {};
}

Result<void> opt_bool(const Json& o, const char* key, const std::string& where, bool& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_boolean()) {
    return make_error(Errc::InvalidArgument, "{}.{}: expected a boolean", where, key);
  }
  out = it->get<bool>();
  return {};
}

Result<void> opt_map(const Json& o, const char* key, const std::string& where,
                     std::map<std::string, std::string>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_object()) {
    return make_error(Errc::InvalidArgument, "{}.{}: expected an object", where, key);
  }
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e->is_string()) {
      return make_error(Errc::InvalidArgument, "{}.{}.{}: expected a string", where, key, e.key());
    }
    out[e.key()] = e->get<std::string>();
  }
  return {};
}

Result<Spec> spec_of(const MountPoint& mp) {
  Spec s;
  s.type = mp.type;
  s.source = mp.source;
  s.target = mp.target;
  s.read_only = mp.read_only;
  const Json& o = mp.options;
  if (!o.is_object()) return s;
  auto obj = [&](const char* k) -> const Json* {
    auto it = o.find(k);
    return it == o.end() || it->is_null() ? nullptr : &*it;
  };
  if (const Json* b = obj("BindOptions")) {
    if (!b->is_object())
      return make_error(Errc::InvalidArgument, "Mounts.BindOptions: expected an object");
    s.has_bind = true;
    BERTH_TRY(opt_string(*b, "Propagation", "Mounts.BindOptions", s.propagation));
    BERTH_TRY(opt_bool(*b, "NonRecursive", "Mounts.BindOptions", s.non_recursive));
    BERTH_TRY(opt_bool(*b, "CreateMountpoint", "Mounts.BindOptions", s.create_mountpoint));
  }
  if (const Json* v = obj("VolumeOptions")) {
    if (!v->is_object())
      return make_error(Errc::InvalidArgument, "Mounts.VolumeOptions: expected an object");
    s.has_volume = true;
    BERTH_TRY(opt_bool(*v, "NoCopy", "Mounts.VolumeOptions", s.nocopy));
    BERTH_TRY(opt_map(*v, "Labels", "Mounts.VolumeOptions", s.labels));
    BERTH_TRY(opt_string(*v, "Subpath", "Mounts.VolumeOptions", s.subpath));
    if (auto d = v->find("DriverConfig"); d != v->end() && d->is_object()) {
      BERTH_TRY(opt_string(*d, "Name", "Mounts.VolumeOptions.DriverConfig", s.driver));
      BERTH_TRY(opt_map(*d, "Options", "Mounts.VolumeOptions.DriverConfig", s.driver_opts));
    }
  }
  if (const Json* t = obj("TmpfsOptions")) {
    if (!t->is_object())
      return make_error(Errc::InvalidArgument, "Mounts.TmpfsOptions: expected an object");
    s.has_tmpfs = true;
    if (auto z = t->find("SizeBytes"); z != t->end() && !z->is_null()) {
      if (!z->is_number_integer()) {
        return make_error(Errc::InvalidArgument,
                          "Mounts.TmpfsOptions.SizeBytes: expected an integer");
      }
      s.tmpfs_size = z->get<int64_t>();
    }
    if (auto md = t->find("Mode"); md != t->end() && !md->is_null()) {
      if (!md->is_number_integer() || md->get<int64_t>() < 0) {
        return make_error(Errc::InvalidArgument, "Mounts.TmpfsOptions.Mode: expected a file mode");
      }
      s.tmpfs_mode = md->get<uint32_t>() & 07777;
    }
  }
  return s;
}

Error duplicate(const std::string& dest) {
  return Error{Errc::InvalidArgument, 0, fmt::format("Duplicate mount point: {}", dest)};
}

}  // namespace

std::string clean_mount_path(const std::string& p) {
  bool abs = !p.empty() && p[0] == '/';
  std::vector<std::string> out;
  for (const std::string& c : split(p, '/', true)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!abs) {
        out.push_back(c);
      }
      continue;
    }
    out.push_back(c);
  }
  std::string j = join(out, "/");
  if (abs) return "/" + j;
  return j.empty() ? "." : j;
}

Result<std::pair<std::string, std::string>> parse_volumes_from(const std::string& spec) {
  if (spec.empty()) {
    return make_error(Errc::InvalidArgument,
                      "volumes-from specification cannot be an empty string");
  }
  auto colon = spec.find(':');
  std::string id = spec.substr(0, colon);
  std::string mode = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (mode.empty()) return std::make_pair(id, std::string("rw"));
  if (!valid_mode(mode) || !mode_propagation(mode).empty() || mode_has(mode, "nocopy")) {
    return make_error(Errc::InvalidArgument, "invalid mode: {}", mode);
  }
  return std::make_pair(id, mode);
}

Result<std::vector<PlannedMount>> plan_mounts(const MountPlanInput& in) {
  auto exists = in.path_exists ? in.path_exists : [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
  };
  // By destination; the order of first appearance is kept for stability.
  std::vector<PlannedMount> out;
  auto find = [&](const std::string& dest) {
    return std::find_if(out.begin(), out.end(),
                        [&](const PlannedMount& p) { return p.mount.destination == dest; });
  };
  std::set<std::string> tmpfs;
  for (const auto& t : in.tmpfs) tmpfs.insert(clean_mount_path(t));

  for (const auto& from : in.volumes_from) {
    bool rw = !mode_has(from.mode, "ro");
    for (const auto& m : from.mounts) {
      PlannedMount p;
      p.mount = m;
      p.mount.rw = m.rw && rw;
      p.mount.copy_data = false;
      p.existing_volume = m.type == "volume";
      if (auto it = find(m.destination); it != out.end()) {
        *it = p;
      } else {
        out.push_back(p);
      }
    }
  }
  std::set<std::string> explicit_dests;
  auto add = [&](PlannedMount p) -> Result<void> {
    const std::string& d = p.mount.destination;
    if (explicit_dests.contains(d) || tmpfs.contains(d)) return duplicate(d);
    explicit_dests.insert(d);
    if (auto it = find(d); it != out.end()) {
      *it = std::move(p);  // replaces a --volumes-from mount
    } else {
      out.push_back(std::move(p));
    }
    return {};
  };
  auto with_driver = [&](PlannedMount p) {
    if (p.mount.type == "volume" && !in.volume_driver.empty()) {
      p.mount.driver = in.volume_driver;
      p.volume_driver = in.volume_driver;
    }
    return p;
  };
  for (const auto& raw : in.binds) BERTH_TRY(add(with_driver(BERTH_TRY(parse_bind(raw, exists)))));
  for (const auto& mp : in.mounts) {
    Spec s = BERTH_TRY(spec_of(mp));
    PlannedMount p = BERTH_TRY(to_planned(s, true, exists));
    if (p.mount.type == "volume" && p.mount.driver == "local") p.mount.mode = "z";
    BERTH_TRY(add(std::move(p)));
  }
  for (const auto& v : in.config_volumes) {
    std::string d = clean_mount_path(v);
    if (d.empty() || d[0] != '/') {
      return make_error(Errc::InvalidArgument,
                        "invalid volume specification: '{}': invalid mount config for type "
                        "\"volume\": invalid mount path: '{}' mount path must be absolute",
                        v, v);
    }
    if (d == "/") {
      return make_error(Errc::InvalidArgument,
                        "invalid volume specification: '{}': invalid specification: destination "
                        "can't be '/'",
                        v);
    }
    if (find(d) != out.end() || tmpfs.contains(d)) continue;
    PlannedMount p;
    p.mount.type = "volume";
    p.mount.destination = d;
    p.mount.driver = "local";
    p.mount.anonymous = true;
    p.mount.copy_data = true;
    out.push_back(with_driver(std::move(p)));
  }
  return out;
}

Result<std::vector<oci::Mount>> oci_mounts(const std::vector<ContainerMount>& mounts) {
  std::vector<oci::Mount> out;
  for (const auto& m : mounts) {
    oci::Mount o;
    o.destination = m.destination;
    if (m.type == "tmpfs") {
      o.type = "tmpfs";
      o.source = "tmpfs";
      o.options = BERTH_TRY(spec_internal::tmpfs_options(m.destination, m.tmpfs_options));
    } else {
      if (m.source.empty()) {
        return make_error(Errc::Internal, "mount {} has no source", m.destination);
      }
      o.type = "bind";
      o.source = m.source;
      o.options.push_back(m.non_recursive ? "bind" : "rbind");
      o.options.push_back(m.propagation.empty() ? "rprivate" : m.propagation);
      o.options.push_back(m.rw ? "rw" : "ro");
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace berth::engine

namespace berth::engine {

Result<void> check_bind_propagation(const std::string& source, const std::string& resolved_source,
                                    const std::string& propagation,
                                    const std::vector<HostMount>& mounts) {
  bool want_shared = propagation == "shared" || propagation == "rshared";
  bool want_slave = propagation == "slave" || propagation == "rslave";
  if (!want_shared && !want_slave) return {};
  const HostMount* best = nullptr;
  for (const auto& m : mounts) {
    const std::string& mp = m.mount_point;
    bool under = resolved_source == mp || mp == "/" ||
                 (resolved_source.starts_with(mp) && resolved_source[mp.size()] == '/');
    if (under && (!best || mp.size() >= best->mount_point.size())) best = &m;
  }
  if (!best) return {};
  bool shared = false, slave = false;
  for (const auto& f : best->optional_fields) {
    if (f.starts_with("shared:")) shared = true;
    if (f.starts_with("master:")) slave = true;
  }
  if (want_shared && !shared) {
    return make_error(Errc::InvalidArgument,
                      "path {} is mounted on {} but it is not a shared mount", source,
                      best->mount_point);
  }
  if (want_slave && !shared && !slave) {
    return make_error(Errc::InvalidArgument,
                      "path {} is mounted on {} but it is not a shared or slave mount", source,
                      best->mount_point);
  }
  return {};
}

}  // namespace berth::engine
