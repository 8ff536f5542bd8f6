// volume/local_volumes.cc — the local driver: records, directories, crash
// repair and device mounts (see local_volumes.h for the on-disk contract).
#include "volume/local_volumes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <random>
#include <regex>

#include "base/fd.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "volume/mount_options.h"

namespace berth::volume {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTrashPrefix = ".trash-";

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Json to_json(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::map<std::string, std::string> from_json_text(const std::string& text) {
  std::map<std::string, std::string> out;
  auto j = parse_json(text, "volume row");
  if (!j || !j->is_object()) return out;
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

// The directory entry of `dir` is durable only once `dir` itself is fsynced.
void fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

bool dir_empty_or_missing(const std::string& dir) {
  std::error_code ec;
  auto it = fs::directory_iterator(dir, ec);
  return ec || it == fs::directory_iterator();
}

// Whether `path` is a mount point in this mount namespace (mountinfo's
// fifth field, with the kernel's octal escapes for space, tab, \n and \).
bool is_mount_point(const std::string& path) {
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return false;
  for (const std::string& line : split(*text, '\n', true)) {
    auto f = split(line, ' ', true);
    if (f.size() < 5) continue;
    std::string mp;
    const std::string& raw = f[4];
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 3 < raw.size()) {
        mp.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 3), nullptr, 8)));
        i += 3;
      } else {
        mp.push_back(raw[i]);
      }
    }
    if (mp == path) return true;
  }
  return false;
}

bool has_device(const Volume& v) { return v.options.contains("device"); }

// mount(2) of a device volume on its _data, as docker's local driver does.
Result<void> mount_device(const Volume& v) {
  const std::string& device = v.options.at("device");
  std::string type = v.options.contains("type") ? v.options.at("type") : "";
  MountArgs a = parse_mount_options(v.options.contains("o") ? v.options.at("o") : "");
  auto failed = [&](int err, unsigned long flags) {
    return Error{
        Errc::Internal, err,
        fmt::format("error while mounting volume '{}': failed to mount local volume: "
                    "mount {}:{}, flags: {:#x}, data: {}: {}",
                    v.mountpoint, device, v.mountpoint, flags, a.data, std::strerror(err))};
  };
  const char* fstype = (a.bind || type.empty() || type == "none") ? nullptr : type.c_str();
  unsigned long flags = a.flags & ~MS_REMOUNT;
  if (::mount(device.c_str(), v.mountpoint.c_str(), fstype, a.bind ? (flags & ~MS_RDONLY) : flags,
              a.data.empty() ? nullptr : a.data.c_str()) != 0) {
    return failed(errno, flags);
  }
  // A bind mount ignores MS_RDONLY on the first call; read-only needs a
  // remount of the bind (mount(2), "Creating a bind mount").
  if (a.bind && (a.flags & MS_RDONLY)) {
    if (::mount(nullptr, v.mountpoint.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY,
                nullptr) != 0) {
      int err = errno;
      ::umount2(v.mountpoint.c_str(), MNT_DETACH);
      return failed(err, flags);
    }
  }
  if (a.propagation != 0 &&
      ::mount(nullptr, v.mountpoint.c_str(), nullptr, a.propagation, nullptr) != 0) {
    int err = errno;
    ::umount2(v.mountpoint.c_str(), MNT_DETACH);
    return failed(err, a.propagation);
  }
  return {};
}

void unmount_device(const std::string& path) {
  if (::umount2(path.c_str(), 0) != 0 && errno == EBUSY) {
    // Still busy (a process outside any container has it open): detach so
    // the volume can go; the kernel frees it when the last user closes.
    ::umount2(path.c_str(), MNT_DETACH);
  }
}

}  // namespace

Result<void> validate_name(const std::string& name) {
  static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
  if (std::regex_match(name, re)) return {};
  if (name.size() == 1 && std::isalnum(static_cast<unsigned char>(name[0]))) {
    return make_error(Errc::InvalidArgument,
                      "volume name is too short, names should be at least two alphanumeric "
                      "characters");
  }
  return make_error(Errc::InvalidArgument,
                    "\"{}\" includes invalid characters for a local volume name, only "
                    "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                    "directory, use absolute path",
                    name);
}

std::string random_name() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string out;
  while (out.size() < 64) {
    uint32_t v = rd();
    for (int i = 0; i < 8 && out.size() < 64; ++i, v >>= 4) out.push_back(hex[v & 15]);
  }
  return out;
}

Result<void> validate_options(const std::map<std::string, std::string>& opts) {
  for (const auto& [k, v] : opts) {
    if (k != "type" && k != "device" && k != "o" && k != "size") {
      return make_error(Errc::InvalidArgument, "invalid option: \"{}\"", k);
    }
  }
  if (opts.contains("size")) {
    // docker supports size only as an XFS project quota on its data root.
    return make_error(Errc::InvalidArgument, "quota size requested but no quota support");
  }
  // docker's mandatory pairs: a device needs its type and the reverse; o
  // needs both.
  static const std::pair<const char*, std::vector<const char*>> kNeeds[] = {
      {"device", {"type"}}, {"type", {"device"}}, {"o", {"device", "type"}}};
  for (const auto& [opt, needs] : kNeeds) {
    if (!opts.contains(opt)) continue;
    for (const char* n : needs) {
      if (!opts.contains(n)) {
        return make_error(Errc::InvalidArgument, "missing required option: \"{}\"", n);
      }
    }
  }
  return {};
}

Result<std::unique_ptr<LocalVolumes>> LocalVolumes::open(
    std::string root, std::shared_ptr<metadata::MetadataStore> store) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return make_error(Errc::Io, "creating {}: {}", root, ec.message());
  // Only root walks into volumes; containers reach their data through binds.
  ::chmod(root.c_str(), 0701);
  std::unique_ptr<LocalVolumes> v(new LocalVolumes(std::move(root), std::move(store)));
  BERTH_TRY(v->load());
  return v;
}

Volume LocalVolumes::from_row(const metadata::VolumeRow& r) const {
  Volume v;
  v.name = r.name;
  v.driver = r.driver;
  v.mountpoint = data_of(r.name);
  v.labels = from_json_text(r.labels);
  v.options = from_json_text(r.options);
  v.created_ns = r.created_ns;
  v.anonymous = r.anonymous;
  return v;
}

Result<void> LocalVolumes::load() {
  auto rows = BERTH_TRY(store_->list_volumes());
  std::error_code ec;
  std::lock_guard lk(mu_);
  for (const auto& r : rows) {
    std::string trash = root_ + "/" + kTrashPrefix + r.name;
    bool have_dir = fs::is_directory(dir_of(r.name), ec);
    if (!have_dir && fs::exists(trash, ec)) {
      // A remove was interrupted after the rename: finish it.
      (void)store_->delete_volume(r.name);
      continue;
    }
    if (!have_dir || !fs::is_directory(data_of(r.name), ec)) {
      log_warn("volume {}: its directory was missing, creating it empty", r.name);
      fs::create_directories(data_of(r.name), ec);
      if (ec) return make_error(Errc::Io, "creating {}: {}", data_of(r.name), ec.message());
    }
    volumes_[r.name] = from_row(r);
  }
  for (auto it = fs::directory_iterator(root_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (starts_with(name, kTrashPrefix)) {
      fs::remove_all(it->path(), ec);
      continue;
    }
    if (volumes_.contains(name) || !validate_name(name)) continue;
    if (dir_empty_or_missing(data_of(name))) {
      // Created, then the daemon died before the row: never used.
      fs::remove_all(it->path(), ec);
      continue;
    }
    metadata::VolumeRow row;
    row.name = name;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0) {
      row.created_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    log_warn("volume {}: directory without a record, adopting it", name);
    if (store_->insert_volume(row)) volumes_[name] = from_row(row);
  }
  return {};
}

Result<Volume> LocalVolumes::create(const CreateOptions& o, bool* created) {
  if (created) *created = false;
  std::string driver = o.driver.empty() ? kLocalDriver : o.driver;
  std::string name = o.name.empty() ? random_name() : o.name;
  BERTH_TRY(validate_name(name));
  if (driver != kLocalDriver) {
    return make_error(Errc::NotFound, "error looking up volume plugin {}: plugin \"{}\" not found",
                      driver, driver);
  }
  std::lock_guard lk(mu_);
  if (auto it = volumes_.find(name); it != volumes_.end()) return it->second;
  BERTH_TRY(validate_options(o.options));
  std::error_code ec;
  fs::create_directories(data_of(name), ec);
  if (ec) return make_error(Errc::Io, "creating {}: {}", data_of(name), ec.message());
  ::chmod(data_of(name).c_str(), 0755);
  fsync_dir(dir_of(name));
  fsync_dir(root_);
  metadata::VolumeRow row;
  row.name = name;
  row.driver = driver;
  row.labels = dump_json(to_json(o.labels));
  row.options = dump_json(to_json(o.options));
  row.created_ns = now_ns();
  row.anonymous = o.anonymous;
  if (auto r = store_->insert_volume(row); !r) {
    fs::remove_all(dir_of(name), ec);
    return r.error();
  }
  Volume v = from_row(row);
  volumes_[name] = v;
  if (created) *created = true;
  return v;
}

Result<Volume> LocalVolumes::get(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return make_error(Errc::NotFound, "no such volume");
  return it->second;
}

std::vector<Volume> LocalVolumes::list() const {
  std::lock_guard lk(mu_);
  std::vector<Volume> out;
  for (const auto& [n, v] : volumes_) out.push_back(v);
  return out;
}

bool LocalVolumes::mounted_locked(const std::string& name) const {
  auto it = holders_.find(name);
  return it != holders_.end() && !it->second.empty();
}

Result<void> LocalVolumes::remove(const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return make_error(Errc::NotFound, "no such volume");
  if (mounted_locked(name)) {
    return make_error(Errc::FailedPrecondition, "volume {} is mounted", name);
  }
  if (has_device(it->second) && is_mount_point(it->second.mountpoint)) {
    unmount_device(it->second.mountpoint);
  }
  if (is_mount_point(it->second.mountpoint)) {
    // Never delete through a mount: that would delete the device's files.
    return make_error(Errc::Conflict, "volume {}: {} is still mounted", name,
                      it->second.mountpoint);
  }
  std::string trash = root_ + "/" + kTrashPrefix + name;
  std::error_code ec;
  fs::remove_all(trash, ec);
  if (::rename(dir_of(name).c_str(), trash.c_str()) != 0 && errno != ENOENT) {
    return sys_error("rename " + dir_of(name));
  }
  fsync_dir(root_);
  auto del = store_->delete_volume(name);
  if (!del && del.error().code != Errc::NotFound) {
    // Put the directory back: the volume still exists.
    ::rename(trash.c_str(), dir_of(name).c_str());
    return del.error();
  }
  volumes_.erase(it);
  holders_.erase(name);
  fs::remove_all(trash, ec);
  if (ec) log_warn("volume {}: removing {}: {}", name, trash, ec.message());
  return {};
}

Result<std::string> LocalVolumes::mount(const std::string& name, const std::string& holder) {
  std::lock_guard lk(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return make_error(Errc::NotFound, "no such volume");
  const Volume& v = it->second;
  auto& hs = holders_[name];
  if (has_device(v) && hs.empty() && !is_mount_point(v.mountpoint)) {
    std::error_code ec;
    fs::create_directories(v.mountpoint, ec);
    if (auto r = mount_device(v); !r) {
      if (hs.empty()) holders_.erase(name);
      return r.error();
    }
  }
  hs.insert(holder);
  return v.mountpoint;
}

Result<void> LocalVolumes::unmount(const std::string& name, const std::string& holder) {
  std::lock_guard lk(mu_);
  auto h = holders_.find(name);
  if (h == holders_.end() || !h->second.erase(holder)) return {};
  if (!h->second.empty()) return {};
  holders_.erase(h);
  auto it = volumes_.find(name);
  if (it != volumes_.end() && has_device(it->second) && is_mount_point(it->second.mountpoint)) {
    unmount_device(it->second.mountpoint);
  }
  return {};
}

void LocalVolumes::unmount_unheld() {
  std::lock_guard lk(mu_);
  for (const auto& [name, v] : volumes_) {
    if (!has_device(v) || mounted_locked(name)) continue;
    if (is_mount_point(v.mountpoint)) {
      log_info("volume {}: unmounting (no container uses it)", name);
      unmount_device(v.mountpoint);
    }
  }
}

Result<int64_t> LocalVolumes::size(const std::string& name) const {
  std::string data;
  {
    std::lock_guard lk(mu_);
    auto it = volumes_.find(name);
    if (it == volumes_.end()) return make_error(Errc::NotFound, "no such volume");
    data = it->second.mountpoint;
  }
  int64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           data, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) continue;
    total += st.st_size;
  }
  return total;
}

}  // namespace berth::volume
