// user_lookup: the container's /etc/passwd and /etc/group, read through a
// layered view of the image or a root fd, and docker's -u resolution.
#include "engine/user_lookup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "sys/syscalls.h"

namespace berth::engine {
namespace {

constexpr uint32_t kMaxId = 2147483647;

Result<std::string> read_fd(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(fmt::format("read {}", what));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (64u << 20)) {
      return make_error(Errc::InvalidArgument, "{}: file too large", what);
    }
  }
  return out;
}

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool is_opaque(const std::string& dir) {
  char v[4];
  ssize_t n = ::lgetxattr(dir.c_str(), "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

// Resolves `path` in the union of `layers` (top first). Returns the host path
// of the regular file that the union shows, or NotFound.
Result<std::string> layered_lookup(const std::vector<std::string>& layers,
                                   const std::string& path) {
  std::vector<std::string> want = split(path, '/', true);
  int hops = 0;
  for (int rounds = 0; rounds < 4096; ++rounds) {
    std::vector<std::string> done;  // resolved components (no symlinks)
    std::vector<size_t> dir_layers(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) dir_layers[i] = i;
    bool restart = false;
    for (size_t k = 0; k < want.size() && !restart; ++k) {
      const std::string& comp = want[k];
      if (comp == ".") continue;
      if (comp == "..") {
        // `done` holds no symlinks, so a lexical pop is the real parent.
        if (!done.empty()) done.pop_back();
        std::vector<std::string> rest(done);
        for (size_t j = k + 1; j < want.size(); ++j) rest.push_back(want[j]);
        want = std::move(rest);
        restart = true;
        break;
      }
      std::string rel;
      for (auto& d : done) rel += "/" + d;
      rel += "/" + comp;
      bool last = k + 1 == want.size();
      std::vector<size_t> next;
      bool found = false;
      for (size_t li : dir_layers) {
        std::string host = layers[li] + rel;
        struct stat st;
        if (::lstat(host.c_str(), &st) != 0) continue;
        if (!found) {
          found = true;
          if (is_whiteout(st)) return make_error(Errc::NotFound, "{}: not found", path);
          if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = ::readlink(host.c_str(), target, sizeof target - 1);
            if (n < 0) return sys_error(fmt::format("readlink {}", host));
            if (++hops > 40) {
              return make_error(Errc::InvalidArgument, "{}: too many levels of symbolic links",
                                path);
            }
            std::string t(target, static_cast<size_t>(n));
            std::vector<std::string> rest;
            if (t.empty() || t[0] != '/') rest = done;
            for (auto& p : split(t, '/', true)) rest.push_back(p);
            for (size_t j = k + 1; j < want.size(); ++j) rest.push_back(want[j]);
            want = std::move(rest);
            restart = true;
            break;
          }
          if (!S_ISDIR(st.st_mode)) {
            if (!last) return make_error(Errc::NotFound, "{}: not a directory", path);
            if (!S_ISREG(st.st_mode)) {
              return make_error(Errc::InvalidArgument, "{}: not a regular file", path);
            }
            return host;
          }
          next.push_back(li);
          if (is_opaque(host)) break;
          continue;
        }
        // Lower layers only contribute while they hold a directory here too.
        if (!S_ISDIR(st.st_mode)) break;
        next.push_back(li);
        if (is_opaque(host)) break;
      }
      if (restart) break;
      if (!found) return make_error(Errc::NotFound, "{}: not found", path);
      if (last) return make_error(Errc::InvalidArgument, "{}: is a directory", path);
      done.push_back(comp);
      dir_layers = std::move(next);
    }
    if (!restart) return make_error(Errc::InvalidArgument, "{}: is a directory", path);
  }
  return make_error(Errc::InvalidArgument, "{}: too many levels of symbolic links", path);
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home;
};
struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> parse_id(std::string_view s) {
  auto v = parse_uint(s);
  if (!v || *v > kMaxId) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::vector<PasswdEntry> parse_passwd(const std::string& text) {
  std::vector<PasswdEntry> out;
  for (auto& line : split(text, '\n', true)) {
    std::string_view l = trim(line);
    if (l.empty() || l[0] == '#') continue;
    auto f = split(l, ':');
    if (f.size() < 4) continue;
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) continue;
    out.push_back(PasswdEntry{f[0], *uid, *gid, f.size() > 5 ? f[5] : ""});
  }
  return out;
}

std::vector<GroupEntry> parse_group(const std::string& text) {
  std::vector<GroupEntry> out;
  for (auto& line : split(text, '\n', true)) {
    std::string_view l = trim(line);
    if (l.empty() || l[0] == '#') continue;
    auto f = split(l, ':');
    if (f.size() < 3) continue;
    auto gid = parse_id(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3) g.members = split(f[3], ',', true);
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::string> read_optional(const RootfsFileReader& read, const std::string& path) {
  if (!read) return std::string();
  auto r = read(path);
  if (!r && r.error().code == Errc::NotFound) return std::string();
  return r;
}

bool is_number(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

RootfsFileReader layered_reader(std::vector<std::string> layers_top_first) {
  return [layers = std::move(layers_top_first)](const std::string& path) -> Result<std::string> {
    std::string host = BERTH_TRY(layered_lookup(layers, path));
    Fd fd(::open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return sys_error(fmt::format("open {}", host));
    return read_fd(fd.get(), path);
  };
}

RootfsFileReader root_fd_reader(int root_fd) {
  return [root_fd](const std::string& path) -> Result<std::string> {
    Fd fd = BERTH_TRY(sys::open_in_root(root_fd, path, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return sys_error(fmt::format("stat {}", path));
    if (!S_ISREG(st.st_mode)) {
      return make_error(Errc::InvalidArgument, "{}: not a regular file", path);
    }
    return read_fd(fd.get(), path);
  };
}

Result<ResolvedUser> resolve_user(std::string_view user, const std::vector<std::string>& group_add,
                                  const RootfsFileReader& read) {
  std::string_view user_part = user, group_part;
  bool group_given = false;
  if (auto colon = user.find(':'); colon != std::string_view::npos) {
    user_part = user.substr(0, colon);
    group_part = user.substr(colon + 1);
    group_given = true;
  }
  if (user_part.empty()) user_part = "0";
  auto passwd = parse_passwd(BERTH_TRY(read_optional(read, "/etc/passwd")));
  std::vector<GroupEntry> groups;
  bool groups_read = false;
  auto load_groups = [&]() -> Result<void> {
    if (!groups_read) groups = parse_group(BERTH_TRY(read_optional(read, "/etc/group")));
    groups_read = true;
    return ok();
  };

  ResolvedUser out;
  const PasswdEntry* entry = nullptr;
  for (auto& p : passwd) {
    if (p.name == user_part || (is_number(user_part) && std::to_string(p.uid) == user_part)) {
      entry = &p;
      break;
    }
  }
  if (entry) {
    out.uid = entry->uid;
    out.gid = entry->gid;
    out.name = entry->name;
    if (!entry->home.empty()) out.home = entry->home;
  } else if (is_number(user_part)) {
    auto uid = parse_id(user_part);
    if (!uid) {
      return make_error(Errc::InvalidArgument, "uids and gids must be in range 0-{} (user {})",
                        kMaxId, user_part);
    }
    out.uid = *uid;
  } else {
    return make_error(Errc::NotFound, "unable to find user {}: no matching entries in passwd file",
                      user_part);
  }

  std::set<uint32_t> extra;
  if (group_given && !group_part.empty()) {
    BERTH_TRY(load_groups());
    const GroupEntry* g = nullptr;
    for (auto& e : groups) {
      if (e.name == group_part || (is_number(group_part) && std::to_string(e.gid) == group_part)) {
        g = &e;
        break;
      }
    }
    if (g) {
      out.gid = g->gid;
    } else if (is_number(group_part)) {
      auto gid = parse_id(group_part);
      if (!gid) {
        return make_error(Errc::InvalidArgument, "uids and gids must be in range 0-{} (group {})",
                          kMaxId, group_part);
      }
      out.gid = *gid;
    } else {
      return make_error(Errc::NotFound,
                        "unable to find group {}: no matching entries in group file", group_part);
    }
  } else if (!out.name.empty()) {
    BERTH_TRY(load_groups());
    for (auto& e : groups) {
      if (std::find(e.members.begin(), e.members.end(), out.name) != e.members.end()) {
        extra.insert(e.gid);
      }
    }
  }

  for (const std::string& ag : group_add) {
    BERTH_TRY(load_groups());
    const GroupEntry* g = nullptr;
    for (auto& e : groups) {
      if (e.name == ag) {
        g = &e;
        break;
      }
    }
    if (g) {
      extra.insert(g->gid);
    } else if (is_number(ag)) {
      auto gid = parse_id(ag);
      if (!gid) {
        return make_error(Errc::InvalidArgument,
                          "--group-add: uids and gids must be in range 0-{} (group {})", kMaxId,
                          ag);
      }
      extra.insert(*gid);
    } else {
      return make_error(Errc::NotFound,
                        "Unable to find group {}: no matching entries in group file", ag);
    }
  }
  // As dockerd does: the primary gid heads the supplementary groups (`id`
  // in the container lists it), then membership and --group-add.
  extra.erase(out.gid);
  out.additional_gids.assign(1, out.gid);
  out.additional_gids.insert(out.additional_gids.end(), extra.begin(), extra.end());
  return out;
}

}  // namespace berth::engine
