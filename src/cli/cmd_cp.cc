// cp: docker's archive semantics in both directions (CONTAINER:SRC DEST,
// SRC CONTAINER:DEST, "-" for a tar stream on stdin/stdout). The daemon
// resolves paths inside the container (it never follows a symlink out of
// it); here the local side is extracted with libarchive's secure flags (no
// "..", no absolute paths, no writing through symlinks).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "api/types/auth.h"
#include "base/strings.h"
#include "cli/cmd_container.h"
#include "cli/units.h"

namespace berth::cli {
namespace {

using api::client::EngineClient;

struct CpArg {
  std::string container;  // "" = local
  std::string path;
};

// docker's splitCpArg: a local path that starts with / or . never names a
// container; otherwise "NAME:PATH".
CpArg split_cp_arg(const std::string& a) {
  if (a.empty() || a[0] == '/' || a[0] == '.') return {"", a};
  auto colon = a.find(':');
  if (colon == std::string::npos) return {"", a};
  return {a.substr(0, colon), a.substr(colon + 1)};
}

struct PathStat {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;  // Go os.FileMode bits
  std::string link_target;
  bool is_dir() const { return (mode & 0x80000000u) != 0; }  // os.ModeDir
};

Result<PathStat> decode_path_stat(const http::Headers& h) {
  auto it = h.find("X-Docker-Container-Path-Stat");
  if (it == h.end()) return make_error(Errc::Internal, "unable to get resource stat from response");
  std::string raw = BERTH_TRY(api::base64_decode_lenient(it->second));
  Json j = BERTH_TRY(parse_json(raw, "container path stat"));
  PathStat s;
  s.name = j.value("name", "");
  s.size = j.value("size", int64_t{0});
  s.mode = j.value("mode", uint32_t{0});
  s.link_target = j.value("linkTarget", "");
  return s;
}

// HEAD /containers/{c}/archive?path=P (the container is known to exist, so
// a 404 means the path is missing).
Result<std::optional<PathStat>> stat_container_path(EngineClient& c, const std::string& ctr,
                                                    const std::string& path) {
  auto r = c.cli_request("HEAD", "/containers/" + http::url_encode(ctr) + "/archive",
                         {{"path", path}}, {}, {}, {});
  if (!r) {
    if (r.error().code == Errc::NotFound) return std::optional<PathStat>();
    return r.error();
  }
  return std::optional<PathStat>(BERTH_TRY(decode_path_stat(r->headers)));
}

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::string dir_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto s = p.rfind('/');
  if (s == std::string::npos) return ".";
  if (s == 0) return "/";
  return p.substr(0, s);
}

bool ends_with_dot(const std::string& p) { return p == "." || ends_with(p, "/."); }

// Rewrites an archive member name: the first component `from` becomes `to`
// ("" drops it: the contents of a "dir/." copy).
std::optional<std::string> rebase(const std::string& name, const std::string& from,
                                  const std::string& to) {
  // Member names are made relative: the target directory is prepended.
  std::string n = name;
  while (starts_with(n, "/") || starts_with(n, "./")) n = n.substr(n[0] == '/' ? 1 : 2);
  if (from.empty()) return n;
  if (n == from || n == from + "/") return to.empty() ? std::optional<std::string>() : to;
  if (starts_with(n, from + "/")) {
    std::string rest = n.substr(from.size() + 1);
    return to.empty() ? rest : to + "/" + rest;
  }
  return n;
}

class TempFile {
 public:
  TempFile() {
    char tmpl[] = "/tmp/berth-cp-XXXXXX";
    fd_ = ::mkstemp(tmpl);
    if (fd_ >= 0) path_ = tmpl;
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

Result<void> extract(const std::string& tar_path, const std::string& target_dir,
                     const std::string& from, const std::string& to) {
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_none(a);
  struct archive* w = archive_write_disk_new();
  archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                        ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                        ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK);
  auto done = [&](Result<void> r) {
    archive_read_free(a);
    archive_write_free(w);
    return r;
  };
  if (archive_read_open_filename(a, tar_path.c_str(), 65536) != ARCHIVE_OK)
    return done(make_error(Errc::Internal, "reading the archive: {}", archive_error_string(a)));
  struct archive_entry* e;
  while (true) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return done(make_error(Errc::Internal, "reading the archive: {}", archive_error_string(a)));
    auto name = rebase(archive_entry_pathname(e), from, to);
    if (!name) {  // the "dir/." top entry: the target directory itself
      continue;
    }
    archive_entry_set_pathname(e, (target_dir + "/" + *name).c_str());
    if (const char* hl = archive_entry_hardlink(e)) {
      auto hn = rebase(hl, from, to);
      if (hn) archive_entry_set_hardlink(e, (target_dir + "/" + *hn).c_str());
    }
    r = archive_write_header(w, e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return done(make_error(Errc::Internal, "extracting {}: {}", *name, archive_error_string(w)));
    const void* buf;
    size_t size;
    la_int64_t off;
    while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
      if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
        return done(
            make_error(Errc::Internal, "extracting {}: {}", *name, archive_error_string(w)));
    if (r != ARCHIVE_EOF)
      return done(make_error(Errc::Internal, "reading the archive: {}", archive_error_string(a)));
    archive_write_finish_entry(w);
  }
  return done(ok());
}

Result<int> copy_from(Context& ctx, const FlagSet& f, const CpArg& src, const std::string& dst) {
  EngineClient* c = BERTH_TRY(ctx.client());
  std::string path = src.path;
  std::string archive_path = "/containers/" + http::url_encode(src.container) + "/archive";
  if (f.get_bool("follow-link")) {
    BERTH_TRY(inspect_container(*c, src.container));
    auto st = BERTH_TRY(stat_container_path(*c, src.container, src.path));
    if (st && !st->link_target.empty()) path = st->link_target;
  }
  if (dst == "-") {
    ctx.flush();
    BERTH_TRY(c->cli_request("GET", archive_path, {{"path", path}}, {}, {},
                             [](std::string_view d) { return write_all(STDOUT_FILENO, d); }));
    return 0;
  }
  TempFile tmp;
  if (tmp.fd() < 0) return sys_error("creating a temporary file");
  int64_t bytes = 0;
  auto resp = BERTH_TRY(
      c->cli_request("GET", archive_path, {{"path", path}}, {}, {}, [&](std::string_view d) {
        bytes += static_cast<int64_t>(d.size());
        return write_all(tmp.fd(), d);
      }));
  auto st = BERTH_TRY(decode_path_stat(resp.headers));
  // Where the archive goes and how its top entry is renamed.
  struct stat ds {};
  bool dst_exists = ::stat(dst.c_str(), &ds) == 0;
  bool dst_dir = dst_exists && S_ISDIR(ds.st_mode);
  std::string top = base_name(st.name.empty() ? path : st.name);
  std::string target_dir, from = top, to = top;
  if (st.is_dir() && ends_with_dot(src.path)) {
    if (dst_exists && !dst_dir) return make_error(Errc::InvalidArgument, "cannot copy directory");
    if (!dst_exists) {
      struct stat ps {};
      if (::stat(dir_name(dst).c_str(), &ps) != 0)
        return make_error(Errc::NotFound, "invalid output path: directory \"{}\" does not exist",
                          dir_name(dst));
      if (::mkdir(dst.c_str(), 0755) != 0) return sys_error("mkdir " + dst);
    }
    target_dir = dst;
    to = "";
  } else if (dst_dir) {
    target_dir = dst;
  } else {
    if (st.is_dir() && dst_exists)
      return make_error(Errc::InvalidArgument, "cannot copy directory");
    if (!dst_exists && ends_with(dst, "/"))
      return make_error(Errc::NotFound, "destination directory \"{}\" does not exist", dst);
    target_dir = dir_name(dst);
    struct stat ps {};
    if (::stat(target_dir.c_str(), &ps) != 0 || !S_ISDIR(ps.st_mode)) {
      char abs[PATH_MAX];
      std::string shown = target_dir;
      if (::realpath(".", abs) && target_dir[0] != '/') shown = std::string(abs) + "/" + target_dir;
      if (starts_with(shown, std::string(abs) + "/./"))
        shown = std::string(abs) + shown.substr(std::string(abs).size() + 2);
      return make_error(Errc::NotFound, "invalid output path: directory \"{}\" does not exist",
                        shown);
    }
    to = base_name(dst);
  }
  BERTH_TRY(extract(tmp.path(), target_dir, from, to));
  if (::isatty(STDERR_FILENO) && !f.get_bool("quiet"))
    ctx.err(
        fmt::format("Successfully copied {} to {}\n", human_size(static_cast<double>(bytes)), dst));
  return 0;
}

// Writes `src` (a file or a tree) as a tar with its top entry named `name`
// ("" = the directory's contents) into fd.
Result<void> make_tar(const std::string& src, const std::string& name, bool follow, int fd) {
  struct archive* disk = archive_read_disk_new();
  archive_read_disk_set_standard_lookup(disk);
  if (follow)
    archive_read_disk_set_symlink_hybrid(disk);
  else
    archive_read_disk_set_symlink_physical(disk);
  struct archive* w = archive_write_new();
  archive_write_set_format_pax_restricted(w);
  auto done = [&](Result<void> r) {
    archive_read_free(disk);
    archive_write_free(w);
    return r;
  };
  if (archive_write_open_fd(w, fd) != ARCHIVE_OK)
    return done(make_error(Errc::Internal, "writing the archive: {}", archive_error_string(w)));
  if (archive_read_disk_open(disk, src.c_str()) != ARCHIVE_OK)
    return done(make_error(Errc::Internal, "{}", archive_error_string(disk)));
  std::string root = src;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct archive_entry* e;
  while (true) {
    e = archive_entry_new();
    int r = archive_read_next_header2(disk, e);
    if (r == ARCHIVE_EOF) {
      archive_entry_free(e);
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      archive_entry_free(e);
      return done(make_error(Errc::Internal, "{}", archive_error_string(disk)));
    }
    archive_read_disk_descend(disk);
    std::string p = archive_entry_pathname(e);
    std::string rel = p == root ? "" : p.substr(root.size() + (root == "/" ? 0 : 1));
    std::string out = name.empty() ? rel : (rel.empty() ? name : name + "/" + rel);
    if (out.empty()) {  // the directory itself in a contents copy
      archive_entry_free(e);
      continue;
    }
    archive_entry_set_pathname(e, out.c_str());
    if (archive_write_header(w, e) != ARCHIVE_OK) {
      archive_entry_free(e);
      return done(make_error(Errc::Internal, "writing the archive: {}", archive_error_string(w)));
    }
    if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
      int in = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0) {
        archive_entry_free(e);
        return done(sys_error("open " + p));
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(in, buf, sizeof buf)) > 0)
        archive_write_data(w, buf, static_cast<size_t>(n));
      ::close(in);
    }
    archive_entry_free(e);
  }
  if (archive_write_close(w) != ARCHIVE_OK)
    return done(make_error(Errc::Internal, "writing the archive: {}", archive_error_string(w)));
  return done(ok());
}

Result<int> copy_to(Context& ctx, const FlagSet& f, const std::string& src, const CpArg& dst) {
  EngineClient* c = BERTH_TRY(ctx.client());
  BERTH_TRY(inspect_container(*c, dst.container));
  std::string archive_path = "/containers/" + http::url_encode(dst.container) + "/archive";
  api::client::Query q{{"path", ""}, {"noOverwriteDirNonDir", "true"}};
  if (f.get_bool("archive")) q.emplace_back("copyUIDGID", "true");
  if (src == "-") {
    auto st = BERTH_TRY(stat_container_path(*c, dst.container, dst.path));
    if (!st || !st->is_dir())
      return make_error(Errc::InvalidArgument, "destination \"{}:{}\" must be a directory",
                        dst.container, dst.path);
    q[0].second = dst.path;
    char buf[65536];
    BERTH_TRY(c->cli_request("PUT", archive_path, q, {}, {{"Content-Type", "application/x-tar"}},
                             {}, [&]() -> Result<std::string> {
                               ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
                               if (n < 0) return sys_error("reading stdin");
                               return std::string(buf, static_cast<size_t>(n));
                             }));
    return 0;
  }
  struct stat ss {};
  int sr = f.get_bool("follow-link") ? ::stat(src.c_str(), &ss) : ::lstat(src.c_str(), &ss);
  if (sr != 0) {
    std::string shown = src;
    char cwd[PATH_MAX];
    if (src[0] != '/' && ::getcwd(cwd, sizeof cwd)) shown = std::string(cwd) + "/" + src;
    return make_error(Errc::NotFound, "lstat {}: no such file or directory", shown);
  }
  bool src_dir = S_ISDIR(ss.st_mode);
  auto st = BERTH_TRY(stat_container_path(*c, dst.container, dst.path));
  std::string upload_dir, name;
  if (src_dir && ends_with_dot(src)) {
    if (st && !st->is_dir()) return make_error(Errc::InvalidArgument, "cannot copy directory");
    if (st) {
      upload_dir = dst.path;
      name = "";
    } else {
      upload_dir = dir_name(dst.path);
      name = base_name(dst.path);
    }
  } else if (st && st->is_dir()) {
    upload_dir = dst.path;
    name = base_name(src);
  } else {
    if (st && src_dir) return make_error(Errc::InvalidArgument, "cannot copy directory");
    if (!st && ends_with(dst.path, "/") && !src_dir)
      return make_error(Errc::NotFound, "destination directory \"{}:{}\" does not exist",
                        dst.container, dst.path);
    upload_dir = dir_name(dst.path);
    name = base_name(dst.path);
  }
  TempFile tmp;
  if (tmp.fd() < 0) return sys_error("creating a temporary file");
  BERTH_TRY(make_tar(src, name, f.get_bool("follow-link"), tmp.fd()));
  int rd = ::open(tmp.path().c_str(), O_RDONLY | O_CLOEXEC);
  if (rd < 0) return sys_error("open " + tmp.path());
  struct stat ts {};
  ::fstat(rd, &ts);
  q[0].second = upload_dir;
  char buf[65536];
  auto r = c->cli_request("PUT", archive_path, q, {}, {{"Content-Type", "application/x-tar"}}, {},
                          [&]() -> Result<std::string> {
                            ssize_t n = ::read(rd, buf, sizeof buf);
                            if (n < 0) return sys_error("reading " + tmp.path());
                            return std::string(buf, static_cast<size_t>(n));
                          });
  ::close(rd);
  if (!r) return r.error();
  if (::isatty(STDERR_FILENO) && !f.get_bool("quiet"))
    ctx.err(fmt::format("Successfully copied {} to {}:{}\n",
                        human_size(static_cast<double>(ts.st_size)), dst.container, dst.path));
  return 0;
}

Result<int> run_cp(Context& ctx, const FlagSet& f, const std::vector<std::string>& args) {
  CpArg src = split_cp_arg(args[0]), dst = split_cp_arg(args[1]);
  if (src.container.empty() && dst.container.empty())
    return make_error(Errc::InvalidArgument, "must specify at least one container source");
  if (!src.container.empty() && !dst.container.empty())
    return make_error(Errc::InvalidArgument, "copying between containers is not supported");
  if (!src.container.empty()) {
    if (src.path.empty()) return make_error(Errc::InvalidArgument, "filepath can not be empty");
    return copy_from(ctx, f, src, dst.path);
  }
  if (dst.path.empty()) return make_error(Errc::InvalidArgument, "filepath can not be empty");
  return copy_to(ctx, f, src.path, dst);
}

}  // namespace

void add_cp_commands(std::vector<Command>& cmds) {
  cmds.push_back({"container cp",
                  {"cp"},
                  "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "
                  "CONTAINER:DEST_PATH",
                  "Copy files/folders between a container and the local filesystem",
                  2,
                  2,
                  [](FlagSet& f) {
                    f.add_bool("archive", 'a', "Archive mode (copy all uid/gid information)");
                    f.add_bool("follow-link", 'L', "Always follow symbol link in SRC_PATH");
                    f.add_bool("quiet", 'q', "Suppress progress output during copy");
                  },
                  run_cp});
}

}  // namespace berth::cli
