#include "cgroups/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>

#include "base/fd.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::cgroups {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Names of the subdirectories of dir (child cgroups). Missing dir -> empty.
Result<std::vector<std::string>> subdirs(const std::string& dir, std::vector<std::string>* files) {
  std::vector<std::string> out;
  DirPtr d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error(fmt::format("open directory {}", dir));
  }
  while (struct dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_DIR) {
      out.push_back(std::move(name));
    } else if (files) {
      files->push_back(std::move(name));
    }
  }
  return out;
}

}  // namespace

std::string join_path(const std::string& root, const std::string& cgroup_path) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (cgroup_path.empty() || cgroup_path == "/") return r;
  if (r == "/") return cgroup_path;
  return r + cgroup_path;
}

Result<std::string> clean_cgroup_path(const std::string& cgroups_path, const std::string& id) {
  std::string raw = cgroups_path;
  if (raw.empty()) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
      return make_error(Errc::InvalidArgument, "container id {:?} cannot name a cgroup", id);
    raw = "/berth/" + id;
  }
  std::vector<std::string> parts;
  for (auto& p : split(raw, '/', /*skip_empty=*/true)) {
    if (p == ".") continue;
    if (p == "..")
      return make_error(Errc::InvalidArgument, "cgroupsPath {:?} must not contain \"..\"",
                        cgroups_path);
    parts.push_back(p);
  }
  if (parts.empty())
    return make_error(Errc::InvalidArgument,
                      "cgroupsPath {:?} names the hierarchy root; a container needs its own cgroup",
                      cgroups_path);
  return "/" + join(parts, "/");
}

Result<void> CgroupFs::write(const std::string& dir, std::string_view file,
                             std::string_view value) const {
  std::string path = dir + "/" + std::string(file);
  if (opts_.before_write) BERTH_TRY(opts_.before_write(path, value));
  auto r = berth::write_file(path, value, /*create=*/false);
  if (!r) {
    Error e = r.error();
    return Error{e.code, e.sys_errno,
                 fmt::format("write {:?} to {}: {}", value, path,
                             e.sys_errno ? std::strerror(e.sys_errno) : e.message)};
  }
  return ok();
}

Result<void> CgroupFs::write_each(
    const std::string& dir, const std::vector<std::pair<std::string, std::string>>& writes) const {
  std::map<std::string, Fd> open;
  for (const auto& [file, value] : writes) {
    std::string path = dir + "/" + file;
    // As write() words it: the errno's code and text.
    auto failed = [&](int err) {
      return Error{sys_error("", err).code, err,
                   fmt::format("write {:?} to {}: {}", value, path, std::strerror(err))};
    };
    if (opts_.before_write) BERTH_TRY(opts_.before_write(path, value));
    auto it = open.find(file);
    if (it == open.end()) {
      Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd) return failed(errno);
      it = open.emplace(file, std::move(fd)).first;
    }
    ssize_t n;
    do {
      n = ::write(it->second.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return failed(errno);
    if (n != static_cast<ssize_t>(value.size())) return failed(EIO);
  }
  return ok();
}

Result<std::string> CgroupFs::read(const std::string& dir, std::string_view file) const {
  std::string path = dir + "/" + std::string(file);
  auto r = berth::read_file(path);
  if (!r) return r.error();
  return std::string(trim(*r));
}

bool CgroupFs::exists(const std::string& dir, std::string_view file) const {
  std::string path = dir + "/" + std::string(file);
  return ::access(path.c_str(), F_OK) == 0;
}

Result<void> CgroupFs::mkdir_all(const std::string& dir) const {
  // The parents exist for every container but the first: one mkdir then.
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return ok();
  if (errno != ENOENT) return sys_error(fmt::format("create cgroup directory {}", dir));
  std::string cur;
  for (auto& p : split(dir, '/', /*skip_empty=*/true)) {
    cur += "/" + p;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      return sys_error(fmt::format("create cgroup directory {}", cur));
  }
  return ok();
}

Result<std::vector<pid_t>> CgroupFs::procs_recursive(const std::string& dir) const {
  std::vector<pid_t> out;
  auto content = berth::read_file(dir + "/cgroup.procs");
  if (!content) {
    if (content.error().sys_errno == ENOENT && ::access(dir.c_str(), F_OK) != 0) return out;
    return content.error();
  }
  for (auto& line : split(*content, '\n', /*skip_empty=*/true)) {
    auto v = parse_int(trim(line));
    if (!v || *v <= 0)
      return make_error(Errc::Io, "{}/cgroup.procs: unexpected line {:?}", dir, line);
    out.push_back(static_cast<pid_t>(*v));
  }
  for (auto& sub : BERTH_TRY(subdirs(dir, nullptr))) {
    auto child = BERTH_TRY(procs_recursive(dir + "/" + sub));
    out.insert(out.end(), child.begin(), child.end());
  }
  return out;
}

bool CgroupFs::try_rmdir(const std::string& dir) const {
  return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

Result<void> CgroupFs::remove_tree(const std::string& dir) const {
  std::vector<std::string> files;
  for (auto& sub : BERTH_TRY(subdirs(dir, &files))) BERTH_TRY(remove_tree(dir + "/" + sub));
  if (opts_.fixture_tree) {
    for (auto& f : files) ::unlink((dir + "/" + f).c_str());
  }
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return ok();
  if (errno == EBUSY)
    return Error{Errc::Conflict, EBUSY,
                 fmt::format("remove cgroup {}: processes are still in it", dir)};
  return sys_error(fmt::format("remove cgroup {}", dir));
}

}  // namespace berth::cgroups
