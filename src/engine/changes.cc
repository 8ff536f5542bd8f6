// changes: docker diff over an overlay upper directory.
#include "engine/changes.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <optional>
#include <set>

#include "base/strings.h"

namespace berth::engine {
namespace {

constexpr int kModified = 0, kAdded = 1, kDeleted = 2;

bool is_whiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool is_opaque(const std::string& dir) {
  char v[4];
  ssize_t n = ::lgetxattr(dir.c_str(), "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

Result<std::vector<std::string>> sorted_names(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error(fmt::format("open {}", dir));
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class Walker {
 public:
  Walker(std::string upper, const std::vector<std::string>& lowers)
      : upper_(std::move(upper)), lowers_(lowers) {}

  Result<std::vector<Change>> run() {
    BERTH_TRY(walk_dir("", false));
    return std::move(out_);
  }

 private:
  // The entry at `rel` in the merged lower layers, if any: the first layer
  // holding it decides; a whiteout there, or an opaque or non-directory
  // ancestor in a layer above, hides it.
  std::optional<struct stat> lower_stat(const std::string& rel) const {
    auto parts = split(rel, '/', true);
    for (const std::string& layer : lowers_) {
      struct stat st;
      if (::lstat((layer + rel).c_str(), &st) == 0) {
        if (is_whiteout(st)) return std::nullopt;
        return st;
      }
      // Not here: does this layer hide lower ones at some ancestor?
      std::string anc;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        anc += "/" + parts[i];
        struct stat ast;
        if (::lstat((layer + anc).c_str(), &ast) != 0) break;
        if (!S_ISDIR(ast.st_mode)) return std::nullopt;
        // Opaque: what lies below comes only from this layer, which lacks it.
        if (is_opaque(layer + anc)) return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // Names visible in the merged lower layers under directory `rel`.
  std::set<std::string> lower_children(const std::string& rel) const {
    std::set<std::string> names, hidden;
    for (const std::string& layer : lowers_) {
      std::string dir = layer + rel;
      struct stat st;
      if (::lstat(dir.c_str(), &st) != 0) continue;
      if (!S_ISDIR(st.st_mode)) break;
      auto list = sorted_names(dir);
      if (list) {
        for (auto& n : *list) {
          if (names.count(n) || hidden.count(n)) continue;
          struct stat cst;
          if (::lstat((dir + "/" + n).c_str(), &cst) == 0 && is_whiteout(cst)) {
            hidden.insert(n);
          } else {
            names.insert(n);
          }
        }
      }
      if (is_opaque(dir)) break;
    }
    return names;
  }

  static bool same_time(const struct timespec& a, const struct timespec& b) {
    return (a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec) ||
           (a.tv_sec == b.tv_sec && (a.tv_nsec == 0 || b.tv_nsec == 0));
  }

  void add_parent_of(const std::string& path) {
    std::string parent = path.substr(0, path.rfind('/'));
    if (parent.empty()) return;  // "/"
    if (changed_dirs_.insert(parent).second) out_.push_back(Change{kModified, parent});
  }

  Result<void> walk_dir(const std::string& rel, bool below_opaque) {
    auto names = BERTH_TRY(sorted_names(upper_ + rel));
    for (const std::string& name : names) {
      std::string path = rel + "/" + name;
      struct stat st;
      if (::lstat((upper_ + path).c_str(), &st) != 0) {
        return sys_error(fmt::format("lstat {}", upper_ + path));
      }
      Change c{kAdded, path};
      bool record = true;
      bool opaque_below = false;
      if (is_whiteout(st)) {
        c.kind = kDeleted;
      } else if (auto low = below_opaque ? std::nullopt : lower_stat(path)) {
        c.kind = kModified;
        if (S_ISDIR(st.st_mode) && S_ISDIR(low->st_mode)) {
          if (is_opaque(upper_ + path)) {
            opaque_below = true;
          } else if (st.st_size == low->st_size && st.st_mode == low->st_mode &&
                     same_time(st.st_mtim, low->st_mtim)) {
            record = false;  // only a parent of changes; reported if a child needs it
          }
        }
      }
      if (record) {
        if (S_ISDIR(st.st_mode) && c.kind != kDeleted) changed_dirs_.insert(path);
        if (c.kind == kAdded || c.kind == kDeleted) add_parent_of(path);
        out_.push_back(c);
      }
      if (opaque_below) {
        // The directory was replaced: what the lower layers had under it
        // and the upper lacks is gone.
        for (const std::string& n : lower_children(path)) {
          struct stat ust;
          if (::lstat((upper_ + path + "/" + n).c_str(), &ust) == 0) continue;
          out_.push_back(Change{kDeleted, path + "/" + n});
        }
      }
      if (S_ISDIR(st.st_mode)) {
        // Below an opaque directory nothing of the lower layers shows.
        bool opaque_here = below_opaque || (c.kind != kDeleted && is_opaque(upper_ + path));
        BERTH_TRY(walk_dir(path, opaque_here));
      }
    }
    return ok();
  }

  std::string upper_;
  const std::vector<std::string>& lowers_;
  std::vector<Change> out_;
  std::set<std::string> changed_dirs_;
};

}  // namespace

Result<std::vector<Change>> overlay_changes(const std::string& upper,
                                            const std::vector<std::string>& lowers_top_first) {
  struct stat st;
  if (::stat(upper.c_str(), &st) != 0) return sys_error(fmt::format("stat {}", upper));
  if (!S_ISDIR(st.st_mode)) {
    return make_error(Errc::InvalidArgument, "{}: not a directory", upper);
  }
  Walker w(upper, lowers_top_first);
  return w.run();
}

namespace {

void add_tree(const std::string& dir, dev_t dev, std::set<std::pair<dev_t, ino_t>>& seen,
              int64_t& total, int depth) {
  if (depth > 256) return;  // deeper than any real tree; bounds the recursion
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string p = dir + "/" + e->d_name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || st.st_dev != dev) continue;
    if (S_ISDIR(st.st_mode)) {
      add_tree(p, dev, seen, total, depth + 1);
      continue;
    }
    if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) continue;
    total += st.st_size;
  }
  ::closedir(d);
}

}  // namespace

int64_t tree_size(const std::string& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  int64_t total = 0;
  add_tree(dir, st.st_dev, seen, total, 0);
  return total;
}

}  // namespace berth::engine
