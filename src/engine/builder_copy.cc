// COPY, ADD and WORKDIR: the steps that put files into the image.
//
// Each source is first read as a tar (archive_get: of the context, resolved
// inside it, or of a container of the --from image), into a scratch file;
// its bytes make the cache key ("COPY file:<sha256> in /dest"). When the
// cache misses, the entries are renamed to their places under the
// destination, their owner set (root or --chown), and the tar is put at "/"
// of a container of the current image, whose extraction resolves every
// path inside that root; the container is then committed.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>

#include "base/ascii.h"
#include "base/file.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "engine/archive.h"
#include "engine/builder_internal.h"
#include "engine/user_lookup.h"
#include "sys/syscalls.h"

namespace berth::engine::builder {
namespace {

bool has_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Context paths matching a pattern, component by component, sorted.
Result<std::vector<std::string>> glob_context(int root, const std::string& pattern) {
  std::vector<std::string> found = {""};
  for (const auto& part : split(pattern, '/', true)) {
    std::vector<std::string> next;
    for (const auto& dir : found) {
      if (!has_glob(part)) {
        next.push_back(dir.empty() ? part : dir + "/" + part);
        continue;
      }
      auto fd = sys::open_in_root(root, dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
      if (!fd) continue;
      DIR* d = ::fdopendir(fd->release());
      if (!d) continue;
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        if (::fnmatch(part.c_str(), n.c_str(), FNM_PATHNAME) == 0)
          next.push_back(dir.empty() ? n : dir + "/" + n);
      }
      ::closedir(d);
    }
    found = std::move(next);
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Where a source's entries go. A file source's single entry is `name`; a
// directory source's are "." and "./x" (archive_get of "dir/.").
std::string target_of(const std::string& entry, bool dir_source, const std::string& dest,
                      bool dest_is_dir) {
  if (dir_source) {
    std::string rel =
        entry == "." || entry == "./" ? "" : entry.substr(starts_with(entry, "./") ? 2 : 0);
    return clean_abs_path(dest + "/" + rel);
  }
  if (!dest_is_dir) return clean_abs_path(dest);
  return clean_abs_path(dest + "/" + entry);
}

// Copies `in` (a tar file) to `out`, renaming each entry with `rename` ("" =
// drop it) and setting its owner.
Result<void> retar(const std::string& in, const std::string& out,
                   const std::function<std::string(const std::string&)>& rename, uint32_t uid,
                   uint32_t gid) {
  struct archive* r = archive_read_new();
  struct archive* w = archive_write_new();
  ScopeExit free_both([&] {
    archive_read_free(r);
    archive_write_free(w);
  });
  archive_read_support_format_tar(r);
  archive_write_set_format_pax_restricted(w);
  if (archive_read_open_filename(r, in.c_str(), 1 << 16) != ARCHIVE_OK)
    return make_error(Errc::Internal, "read {}: {}", in, archive_error_string(r));
  if (archive_write_open_filename(w, out.c_str()) != ARCHIVE_OK)
    return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
  struct archive_entry* e = nullptr;
  std::string buf(1 << 16, '\0');
  for (;;) {
    int rc = archive_read_next_header(r, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      return make_error(Errc::Internal, "read {}: {}", in, archive_error_string(r));
    std::string to = rename(archive_entry_pathname(e));
    if (to.empty() || to == "/") continue;
    archive_entry_set_pathname(e, to.substr(1).c_str());
    if (const char* hl = archive_entry_hardlink(e)) {
      std::string h = rename(hl);
      archive_entry_set_hardlink(e, h.size() > 1 ? h.substr(1).c_str() : nullptr);
    }
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    archive_entry_set_uname(e, nullptr);
    archive_entry_set_gname(e, nullptr);
    if (archive_write_header(w, e) < ARCHIVE_WARN)
      return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
    for (;;) {
      la_ssize_t n = archive_read_data(r, buf.data(), buf.size());
      if (n < 0) return make_error(Errc::Internal, "read {}: {}", in, archive_error_string(r));
      if (n == 0) break;
      if (archive_write_data(w, buf.data(), static_cast<size_t>(n)) < 0)
        return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
    }
  }
  if (archive_write_close(w) != ARCHIVE_OK)
    return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
  return ok();
}

// A tar of the directories in `dirs` (absolute), root-owned 0755.
Result<void> dirs_tar(const std::vector<std::string>& dirs, const std::string& out) {
  struct archive* w = archive_write_new();
  ScopeExit f([&] { archive_write_free(w); });
  archive_write_set_format_pax_restricted(w);
  if (archive_write_open_filename(w, out.c_str()) != ARCHIVE_OK)
    return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
  for (const auto& d : dirs) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, d.substr(1).c_str());
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_mtime(e, ::time(nullptr), 0);
    int rc = archive_write_header(w, e);
    archive_entry_free(e);
    if (rc < ARCHIVE_WARN)
      return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
  }
  if (archive_write_close(w) != ARCHIVE_OK)
    return make_error(Errc::Internal, "write {}: {}", out, archive_error_string(w));
  return ok();
}

// A file's bytes as a ByteSourceFn (64 KiB chunks).
ByteSourceFn file_source(const std::shared_ptr<Fd>& fd) {
  return [fd]() -> Result<std::string> {
    std::string buf(1 << 16, '\0');
    ssize_t n;
    do n = ::read(fd->get(), buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) return sys_error("read");
    buf.resize(static_cast<size_t>(n));
    return buf;
  };
}

Result<std::shared_ptr<Fd>> open_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path);
  return std::make_shared<Fd>(fd);
}

// Whether a regular file is a tar archive (plain, gzip, bzip2 or xz): what
// ADD unpacks.
bool is_tar_archive(const std::string& path) {
  struct archive* r = archive_read_new();
  archive_read_support_format_tar(r);
  archive_read_support_filter_gzip(r);
  archive_read_support_filter_bzip2(r);
  archive_read_support_filter_xz(r);
  bool yes = false;
  if (archive_read_open_filename(r, path.c_str(), 1 << 16) == ARCHIVE_OK) {
    struct archive_entry* e = nullptr;
    int rc = archive_read_next_header(r, &e);
    yes = rc == ARCHIVE_OK || rc == ARCHIVE_WARN || rc == ARCHIVE_EOF;
    yes = yes && archive_format(r) != 0;
  }
  archive_read_free(r);
  return yes;
}

// The bytes of one regular file inside a tar file.
Result<std::string> first_file_of(const std::string& tar_path) {
  struct archive* r = archive_read_new();
  ScopeExit f([&] { archive_read_free(r); });
  archive_read_support_format_tar(r);
  if (archive_read_open_filename(r, tar_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return make_error(Errc::Internal, "read {}", tar_path);
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string out, buf(1 << 16, '\0');
    la_ssize_t n;
    while ((n = archive_read_data(r, buf.data(), buf.size())) > 0) out.append(buf.data(), n);
    return out;
  }
  return make_error(Errc::NotFound, "not a regular file");
}

struct Source {
  std::string tar;  // scratch file
  bool dir = false;
  bool unpack = false;     // ADD of a local tar archive
  std::string local_path;  // its path in the context (unpack)
};

}  // namespace

Result<void> Build::copy_step(Stage& s, const build::Instruction& in) {
  const bool add = in.keyword == "ADD";
  const std::string kw = in.keyword;
  std::string from, chown;
  for (const auto& f : in.flags) {
    auto eq = f.find('=');
    std::string name = f.substr(2, eq == std::string::npos ? f.npos : eq - 2);
    std::string val = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (name == "from" && !add) {
      from = val;
    } else if (name == "chown") {
      chown = BERTH_TRY(build::expand_word(val, lookup(s), escape_));
    } else if (name == "chmod" || name == "link" || name == "checksum" || name == "parents" ||
               name == "exclude" || name == "keep-git-dir") {
      return make_error(Errc::InvalidArgument, "the --{} option requires BuildKit", name);
    } else {
      return make_error(Errc::InvalidArgument, "Unknown flag: {}", name);
    }
  }
  std::vector<std::string> words;
  for (const auto& a : in.args)
    words.push_back(BERTH_TRY(build::expand_word(a, lookup(s), escape_)));
  if (words.size() < 2)
    return make_error(Errc::InvalidArgument,
                      "{} requires at least two arguments, but only one was provided. Destination "
                      "could not be determined.",
                      kw);
  std::string dest = words.back();
  words.pop_back();
  const std::string orig_dest = dest;
  bool dest_dir = ends_with(dest, "/") || ends_with(dest, "/.") || dest == ".";
  if (dest.empty() || dest[0] != '/') {
    std::string wd = s.config.value("WorkingDir", std::string());
    dest = (wd.empty() ? "/" : wd) + "/" + dest;
  }
  dest = clean_abs_path(dest);

  // The source root: the context, or a container of the --from stage/image.
  std::string from_ctr;
  ScopeExit rm_from([&] {
    if (!from_ctr.empty()) (void)containers_.remove(from_ctr, true, true);
  });
  Fd ctx_root;
  if (!from.empty()) {
    std::optional<Digest> img;
    bool found = false;
    if (auto n = parse_int(from); n && *n >= 0) {
      if (*n >= s.index)
        return make_error(Errc::InvalidArgument,
                          "invalid from flag value {}: refers to current build stage", from);
      img = stages_[static_cast<size_t>(*n)].image;
      found = true;
    } else {
      for (const auto& o : stages_)
        if (&o != &s && o.name == ascii_lower(from)) img = o.image, found = true;
    }
    if (!found) img = BERTH_TRY(base_image(from));
    if (!img) return make_error(Errc::InvalidArgument, "COPY --from of an empty stage (scratch)");
    Stage tmp;
    tmp.image = img;
    from_ctr = BERTH_TRY(step_container(tmp, Json::object(), {"true"}, {}));
  } else {
    ctx_root = BERTH_TRY(open_root(context_));
  }
  auto stat = [&](const std::string& p) -> Result<PathStat> {
    if (!from_ctr.empty()) return containers_.archive_stat(from_ctr, p);
    return archive_stat(ctx_root.get(), p);
  };
  auto get = [&](const std::string& p, const ByteSinkFn& sink) -> Result<PathStat> {
    if (!from_ctr.empty()) return containers_.archive_get(from_ctr, p, sink);
    return archive_get(ctx_root.get(), p, sink);
  };

  // Sources: globs expanded (in the context), each read into a scratch tar.
  std::vector<std::string> paths;
  for (const auto& w : words) {
    if (starts_with(w, "http://") || starts_with(w, "https://")) {
      if (!add) return make_error(Errc::InvalidArgument, "source can't be a URL for COPY");
      return make_error(
          Errc::NotImplemented,
          "ADD {}: downloading a URL is not supported by berth's builder; fetch it in "
          "a RUN step or put it in the context",
          w);
    }
    auto rel = clean_rel_path(w);
    if (!rel)
      return make_error(Errc::InvalidArgument, "forbidden path outside the build context: {} ()",
                        w);
    if (from_ctr.empty() && has_glob(*rel)) {
      auto m = BERTH_TRY(glob_context(ctx_root.get(), *rel));
      paths.insert(paths.end(), m.begin(), m.end());
      continue;
    }
    paths.push_back(*rel);
  }
  if (paths.empty())
    return make_error(Errc::InvalidArgument, "{} failed: no source files were specified", kw);
  if (paths.size() > 1 && !dest_dir)
    return make_error(Errc::InvalidArgument,
                      "When using {} with more than one source file, the destination must be a "
                      "directory and end with a /",
                      kw);

  std::vector<Source> sources;
  Sha256 sum;
  for (const auto& p : paths) {
    auto st = stat("/" + p);
    if (!st) {
      if (st.error().code != Errc::NotFound) return std::move(st).error();
      if (!from_ctr.empty())
        return make_error(Errc::NotFound, "{} failed: stat {}: file does not exist", kw, p);
      return make_error(Errc::NotFound,
                        "{} failed: file not found in build context or excluded by "
                        ".dockerignore: stat {}: file does not exist",
                        kw, p);
    }
    Source src;
    src.dir = (st->mode & kGoModeDir) != 0;
    src.tar = fmt::format("{}/src-{}-{}.tar", scratch_, step_, sources.size());
    {
      int raw = ::open(src.tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (raw < 0) return sys_error("create " + src.tar);
      Fd out(raw);
      BERTH_TRY(get(src.dir ? "/" + p + "/." : "/" + p, [&](std::string_view d) -> Result<void> {
        sum.update(d);
        return write_all(out.get(), d);
      }));
    }
    if (add && !src.dir && from_ctr.empty()) {
      // A local tar archive is unpacked: the file itself, opened in the
      // context's root, is checked and kept for the put.
      auto fd = sys::open_in_root(ctx_root.get(), p, O_RDONLY | O_CLOEXEC);
      if (fd && is_tar_archive(fmt::format("/proc/self/fd/{}", fd->get()))) {
        src.unpack = true;
        src.local_path = fmt::format("{}/archive-{}-{}", scratch_, step_, sources.size());
        BERTH_TRY(write_file(src.local_path, BERTH_TRY(read_fd(fd->get(), p)), true));
      }
    }
    sources.push_back(std::move(src));
  }
  const char* kind = sources.size() > 1 ? "multi" : sources[0].dir ? "dir" : "file";
  std::string created_by = fmt::format("{} #(nop) {} {}{}:{} in {} ", shell_prefix(s), kw,
                                       chown.empty() ? "" : "--chown=" + chown + " ", kind,
                                       sum.finish().hex(), orig_dest);
  if (BERTH_TRY(cached(s, created_by))) return ok();

  std::string id = BERTH_TRY(step_container(s, s.config, {"#(nop)"}, {}));
  bool failed = true;
  ScopeExit cleanup([&] { remove_container(id, failed); });
  uint32_t uid = 0, gid = 0;
  if (!chown.empty()) {
    std::string spec = chown.find(':') == std::string::npos ? chown + ":" + chown : chown;
    RootfsFileReader reader = [&](const std::string& path) -> Result<std::string> {
      std::string tmp = fmt::format("{}/passwd-{}.tar", scratch_, step_);
      {
        int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (raw < 0) return sys_error("create " + tmp);
        Fd out(raw);
        BERTH_TRY(containers_.archive_get(
            id, path, [&](std::string_view d) { return write_all(out.get(), d); }));
      }
      return first_file_of(tmp);
    };
    auto u = BERTH_TRY(resolve_user(spec, {}, reader));
    uid = u.uid;
    gid = u.gid;
  }
  if (!dest_dir && sources.size() == 1 && !sources[0].dir && !sources[0].unpack) {
    auto st = containers_.archive_stat(id, dest);
    dest_dir = st && (st->mode & kGoModeDir) != 0;
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    const Source& src = sources[i];
    std::string put = fmt::format("{}/put-{}-{}.tar", scratch_, step_, i);
    if (src.unpack) {
      // ADD of an archive: its contents go into dest, which must exist first.
      auto st = containers_.archive_stat(id, dest);
      if (!st || !(st->mode & kGoModeDir)) {
        BERTH_TRY(dirs_tar({dest}, put));
        BERTH_TRY(
            containers_.archive_put(id, "/", file_source(BERTH_TRY(open_file(put))), false, false));
      }
      BERTH_TRY(containers_.archive_put(id, dest, file_source(BERTH_TRY(open_file(src.local_path))),
                                        false, false));
      continue;
    }
    const bool into_dir = dest_dir || src.dir;
    BERTH_TRY(retar(
        src.tar, put, [&](const std::string& e) { return target_of(e, src.dir, dest, into_dir); },
        uid, gid));
    BERTH_TRY(
        containers_.archive_put(id, "/", file_source(BERTH_TRY(open_file(put))), false, false));
  }
  failed = false;
  return commit_and_remove(s, id, created_by);
}

Result<void> Build::workdir_step(Stage& s, const build::Instruction& in) {
  std::string dir =
      BERTH_TRY(build::expand_word(in.args.empty() ? "" : in.args[0], lookup(s), escape_));
  if (dir.empty())
    return make_error(Errc::InvalidArgument, "WORKDIR requires exactly one argument");
  if (dir[0] != '/') {
    std::string wd = s.config.value("WorkingDir", std::string());
    dir = (wd.empty() ? "/" : wd) + "/" + dir;
  }
  dir = clean_abs_path(dir);
  s.config["WorkingDir"] = dir;
  const std::string created_by = shell_prefix(s) + " #(nop) WORKDIR " + dir;
  if (BERTH_TRY(cached(s, created_by))) return ok();
  // The directory is made in the image now (docker does the same), so a
  // later step's user need not be able to create it.
  std::string id = BERTH_TRY(step_container(s, s.config, {"#(nop)"}, {}));
  bool failed = true;
  ScopeExit cleanup([&] { remove_container(id, failed); });
  auto st = containers_.archive_stat(id, dir);
  if (!st || !(st->mode & kGoModeDir)) {
    std::string put = fmt::format("{}/workdir-{}.tar", scratch_, step_);
    BERTH_TRY(dirs_tar({dir}, put));
    BERTH_TRY(
        containers_.archive_put(id, "/", file_source(BERTH_TRY(open_file(put))), false, false));
  }
  failed = false;
  return commit_and_remove(s, id, created_by);
}

}  // namespace berth::engine::builder
