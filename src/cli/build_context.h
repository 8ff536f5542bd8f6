// cli/build_context.h — what `berth build` sends: the build context as an
// uncompressed tar streamed into the request body, prepared like docker's
// CLI (cli/command/image/build) prepares it for the classic builder.
//
//  - A directory context is walked in name order (Go's filepath.Walk);
//    .dockerignore at its root decides what is left out (build::IgnoreMatcher),
//    except that the Dockerfile and .dockerignore themselves are always sent
//    (the daemon needs them; docker's TrimBuildFilesFromExcludes).
//  - Entries are relative ('/'-separated, no "./", no root entry), keep
//    their mode bits, mtime (whole seconds) and type; symlinks are sent as
//    links, never followed; hard links to a file already sent are hard-link
//    entries; sockets are skipped. Owners are 0:0, as docker's CLI writes
//    them (ChownOpts{0, 0}): the daemon decides ownership in the image, and
//    the sender's uids mean nothing there.
//  - Every file to be sent is checked before anything is sent (docker's
//    ValidateContextDirectory): an unreadable file or directory fails the
//    build with "error checking context: ..." and no request is made.
//  - A Dockerfile that is not a file of the context (outside it, or `-f -`)
//    is added as `.dockerfile.<20 hex>` (mode 0600), and that name is
//    appended to .dockerignore (created when missing, listing itself), so
//    COPY . never copies it (docker's AddDockerfileToBuildContext).
// The tar is produced piece by piece (ContextTar::next) while the request
// body is written: file contents are never all in memory, only the list of
// paths to send.
// Depends on: base, build (IgnoreMatcher), libarchive.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "build/ignore.h"

struct archive;

namespace berth::cli {

// `berth build PATH` with PATH an existing directory, resolved like docker's
// GetContextFromLocalDir.
struct LocalContext {
  std::string dir;  // absolute, symlinks resolved
  // '/'-separated path of the Dockerfile relative to `dir` ("../x/Dockerfile"
  // when outside it); "-" when it comes from stdin.
  std::string dockerfile;
  std::string dockerfile_abs;  // absolute, symlinks resolved ("" for "-")
  bool dockerfile_outside() const { return dockerfile == ".." || dockerfile.starts_with("../"); }
};

// `file_flag` is -f as typed: "" = PATH/Dockerfile (or PATH/dockerfile when
// only that exists), "-" = stdin, else a path relative to the *current*
// directory (docker's rule for local contexts). Errors (InvalidArgument /
// NotFound), worded like docker's after "unable to prepare context: ":
// "path \"x\" not found", "context must be a directory: /abs", "unable to
// evaluate symlinks in Dockerfile path: lstat /abs/Dockerfile: no such file
// or directory".
Result<LocalContext> resolve_local_context(const std::string& path, const std::string& file_flag);

// A file the tar carries that is not read from the context directory.
struct ExtraFile {
  std::string name;  // relative, '/'-separated
  std::string content;
  mode_t mode = 0600;
  int64_t mtime = 0;  // seconds since the epoch
};

struct ContextTarOptions {
  std::string dir;  // absolute context directory; "" = no directory (only `extra`)
  build::IgnoreMatcher ignore;
  // Relative paths sent even when `ignore` excludes them.
  std::vector<std::string> always_send;
  // Appended after the walk, in this order.
  std::vector<ExtraFile> extra;
  // When set: these bytes are appended to the .dockerignore that is sent
  // (and a .dockerignore with `dockerignore_if_missing` is added after
  // `extra` when the context has none).
  std::optional<std::string> dockerignore_append;
  std::string dockerignore_if_missing;
  bool gzip = false;  // --compress: the tar goes out gzip-compressed
};

// A tar of a build context (gzip-compressed when options.gzip), produced on
// demand.
// Not thread-safe; the files are read while next() runs.
class ContextTar {
 public:
  // Walks `dir` (when set) and checks that everything to be sent can be
  // read. Errors: "error checking context: can't stat '<abs path>'" (a
  // directory that cannot be listed, an entry that cannot be lstat'ed),
  // "error checking context: no permission to read from '<abs path>'" (a
  // file that cannot be opened), "error checking context: file ('<abs>') not
  // found or excluded by .dockerignore" (vanished during the walk).
  static Result<std::unique_ptr<ContextTar>> create(ContextTarOptions o);
  ~ContextTar();
  ContextTar(const ContextTar&) = delete;
  ContextTar& operator=(const ContextTar&) = delete;

  // The next piece of the tar (at most a few hundred KiB); "" once the end
  // of archive was returned. Errors name the file ("reading /abs/f: ...",
  // "/abs/f changed size while the context was sent").
  Result<std::string> next();

  // The entries that will be sent, in order (walked paths, then extras;
  // directories without a trailing '/'). For tests and diagnostics.
  const std::vector<std::string>& paths() const { return paths_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  explicit ContextTar(ContextTarOptions o);
  Result<void> walk(const std::string& rel_dir);
  Result<void> start();
  Result<void> write_next_entry();
  Result<void> write_memory_file(const std::string& name, const std::string& content, mode_t mode,
                                 int64_t mtime);
  Result<void> pump_file_data();
  Error archive_error(const std::string& what) const;
  static ssize_t write_cb(struct archive*, void* self, const void* buf, size_t n);

  ContextTarOptions o_;
  std::vector<std::string> paths_;
  size_t walked_ = 0;  // entries of paths_ that come from the walk
  struct archive* a_ = nullptr;
  std::string out_;
  size_t next_index_ = 0;
  bool finished_ = false;  // end of archive written
  bool done_ = false;      // and returned
  // The regular file whose data is being written.
  int file_fd_ = -1;
  std::string file_path_;
  int64_t file_left_ = 0;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // hard links already sent
  uint64_t bytes_out_ = 0;
};

// True when `head` (the first bytes of a stream, up to 1024) starts an
// archive: gzip/bzip2/xz/zstd magic or a tar header with a valid checksum
// (docker's build.IsArchive). Used to tell a tar context on stdin from a
// Dockerfile.
bool looks_like_archive(std::string_view head);

// ".dockerfile." + 20 random hex digits.
std::string random_dockerfile_name();

// The context of a local directory, ready to send: the tar and the
// `dockerfile` parameter for the daemon. `dockerfile_text` is the
// Dockerfile's content when it is not a file of the context (lc.dockerfile
// is "-" or outside the directory); `name` overrides the random name (tests);
// `gzip` compresses the tar (--compress).
struct PreparedContext {
  std::unique_ptr<ContextTar> tar;
  std::string dockerfile;
};
Result<PreparedContext> prepare_dir_context(const LocalContext& lc,
                                            std::optional<std::string> dockerfile_text,
                                            const std::string& name = "", bool gzip = false);

// --- flag values ------------------------------------------------------------

using BuildEnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// --build-arg values: "K=V" (V may be empty) or "K", which takes K's value
// from `env` and is dropped when K is unset. A later K wins. "=V" is a flag
// value error: invalid argument "=V" for "--build-arg" flag: invalid
// environment variable: =V.
Result<std::map<std::string, std::string>> parse_build_args(const std::vector<std::string>& args,
                                                            const BuildEnvLookup& env);

// --label values: "K=V" or "K" (empty value). An empty name or one with
// whitespace is a flag value error (docker's ValidateLabel wording).
Result<std::map<std::string, std::string>> parse_build_labels(
    const std::vector<std::string>& labels);

// docker's ConfigFile.ParseProxyConfig: the "proxies" of the CLI's config
// file (the entry for `daemon_host`, else "default") become HTTP_PROXY,
// HTTPS_PROXY, NO_PROXY, FTP_PROXY, ALL_PROXY build args and their lowercase
// twins, each unless the user set it with --build-arg.
void add_proxy_build_args(const Json& config, const std::string& daemon_host,
                          std::map<std::string, std::string>& args);

}  // namespace berth::cli
