// libarchive glue: tar writing into a sink, safe extraction of uploads.
#include "image/tar_io.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/fd.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::image {

namespace {

la_ssize_t write_cb(archive*, void* data, const void* buf, size_t n) {
  auto* st = static_cast<TarWriter::SinkState*>(data);
  auto r = (*st->sink)(std::string_view(static_cast<const char*>(buf), n));
  if (!r) {
    st->error = std::move(r).error();
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

}  // namespace

Result<std::unique_ptr<TarWriter>> TarWriter::open(const ByteSink& sink) {
  std::unique_ptr<TarWriter> w(new TarWriter());
  w->state_ = std::make_unique<SinkState>();
  w->state_->sink = &sink;
  w->a_ = archive_write_new();
  if (!w->a_) return make_error(Errc::Internal, "archive_write_new failed");
  archive_write_set_format_pax_restricted(w->a_);
  archive_write_set_bytes_per_block(w->a_, 10240);
  BERTH_TRY(
      w->check(archive_write_open(w->a_, w->state_.get(), nullptr, write_cb, nullptr), "open tar"));
  return w;
}

TarWriter::~TarWriter() {
  if (a_) archive_write_free(a_);
}

Result<void> TarWriter::check(int rc, const std::string& what) {
  if (rc >= ARCHIVE_WARN) return ok();
  if (state_->error) return state_->error->context(what);
  return make_error(Errc::Io, "{}: {}", what,
                    archive_error_string(a_) ? archive_error_string(a_) : "?");
}

Result<void> TarWriter::add_dir(const std::string& name) { return add_dir(name, 0755, 0, 0, 0); }

Result<void> TarWriter::add_dir(const std::string& name, unsigned perm, int64_t uid, int64_t gid,
                                int64_t mtime) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFDIR);
  archive_entry_set_perm(e, perm);
  archive_entry_set_uid(e, uid);
  archive_entry_set_gid(e, gid);
  archive_entry_set_mtime(e, mtime, 0);
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  return check(rc, "tar " + name);
}

Result<void> TarWriter::add_bytes(const std::string& name, std::string_view data) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e, 0, 0);
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  BERTH_TRY(check(rc, "tar " + name));
  if (!data.empty()) {
    la_ssize_t n = archive_write_data(a_, data.data(), data.size());
    if (n < 0) return check(static_cast<int>(n), "tar " + name);
  }
  return ok();
}

Result<void> TarWriter::add_file(const std::string& name, int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return sys_error("stat " + name);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, st.st_size);
  archive_entry_set_mtime(e, 0, 0);
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  BERTH_TRY(check(rc, "tar " + name));
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + name);
    if (n == 0) break;
    la_ssize_t w = archive_write_data(a_, buf.data(), static_cast<size_t>(n));
    if (w < 0) return check(static_cast<int>(w), "tar " + name);
  }
  return ok();
}

Result<void> TarWriter::close() {
  if (closed_) return ok();
  closed_ = true;
  return check(archive_write_close(a_), "close tar");
}

namespace {

struct ReadState {
  const ByteSource* src;
  std::string chunk;
  std::optional<Error> error;
};

la_ssize_t read_cb(archive*, void* data, const void** buf) {
  auto* st = static_cast<ReadState*>(data);
  auto r = (*st->src)();
  if (!r) {
    st->error = std::move(r).error();
    return -1;
  }
  st->chunk = std::move(*r);
  *buf = st->chunk.data();
  return static_cast<la_ssize_t>(st->chunk.size());
}

// Normalizes an archive path; nullopt when it is absolute or climbs out.
std::optional<std::string> clean_path(std::string_view p) {
  if (!p.empty() && p[0] == '/') return std::nullopt;
  std::vector<std::string> out;
  for (auto& part : split(p, '/', true)) {
    if (part == ".") continue;
    if (part == "..") return std::nullopt;
    out.push_back(part);
  }
  return join(out, "/");
}

}  // namespace

Result<void> extract_archive(const ByteSource& src, const std::string& dir,
                             std::map<std::string, std::string>& links) {
  archive* a = archive_read_new();
  if (!a) return make_error(Errc::Internal, "archive_read_new failed");
  struct Free {
    archive* a;
    ~Free() { archive_read_free(a); }
  } guard{a};
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  ReadState st{&src, {}, {}};
  auto fail = [&](const std::string& what) -> Error {
    if (st.error) return st.error->context(what);
    const char* s = archive_error_string(a);
    return make_error(Errc::InvalidArgument, "{}: {}", what, s ? s : "not a tar archive");
  };
  if (archive_read_open(a, &st, nullptr, read_cb, nullptr) != ARCHIVE_OK) {
    return fail("read tarball");
  }
  archive_entry* e = nullptr;
  int entries = 0;
  for (;;) {
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return fail("read tarball");
    ++entries;
    const char* raw = archive_entry_pathname(e);
    std::string name = raw ? raw : "";
    auto clean = clean_path(name);
    if (!clean) {
      return make_error(Errc::InvalidArgument,
                        "invalid tarball entry \"{}\": path escapes the archive", name);
    }
    if (clean->empty()) continue;
    std::string dst = dir + "/" + *clean;
    auto type = archive_entry_filetype(e);
    const char* hl = archive_entry_hardlink(e);
    if (hl) {
      auto t = clean_path(hl);
      if (!t || t->empty())
        return make_error(Errc::InvalidArgument, "invalid tarball entry \"{}\": hardlink to \"{}\"",
                          name, hl);
      links[*clean] = *t;
      continue;
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      std::string t = target ? target : "";
      std::string parent =
          clean->find('/') == std::string::npos ? "" : clean->substr(0, clean->rfind('/'));
      auto resolved =
          clean_path(t.empty() || t[0] == '/' ? "/" : (parent.empty() ? t : parent + "/" + t));
      if (!resolved) {
        return make_error(Errc::InvalidArgument,
                          "invalid tarball entry \"{}\": symlink to \"{}\" escapes the archive",
                          name, t);
      }
      links[*clean] = *resolved;
      continue;
    }
    std::error_code ec;
    if (type == AE_IFDIR) {
      std::filesystem::create_directories(dst, ec);
      if (ec) return make_error(Errc::Io, "extract {}: {}", name, ec.message());
      continue;
    }
    if (type != AE_IFREG) continue;  // devices, fifos: not part of an image tarball
    std::filesystem::create_directories(std::filesystem::path(dst).parent_path(), ec);
    if (ec) return make_error(Errc::Io, "extract {}: {}", name, ec.message());
    int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return sys_error("extract " + name);
    Fd out(fd);
    const void* buf;
    size_t size;
    la_int64_t off;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &size, &off);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return fail("read " + name);
      if (lseek(out.get(), off, SEEK_SET) < 0) return sys_error("seek " + name);
      BERTH_TRY_CTX(write_all(out.get(), std::string_view(static_cast<const char*>(buf), size)),
                    "extract " + name);
    }
  }
  if (entries == 0) return make_error(Errc::InvalidArgument, "tarball is empty");
  return ok();
}

}  // namespace berth::image
