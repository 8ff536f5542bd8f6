// dashboard/static_files.h — the web UI's files (index.html + assets/*,
// with optional precompressed "X.gz" siblings) served from one directory.
//
// Resolution never leaves the directory: the URL path must not contain "."
// or ".." segments (after percent-decoding, which the http server did), and
// the file is opened with openat2(RESOLVE_IN_ROOT) from a directory fd taken
// at startup, so a symlink inside the tree cannot point out of it either.
// Only regular files are served. Routing (what a path means):
//   "/"                          -> index.html
//   an existing file             -> that file
//   "/assets/..." (missing)      -> 404 (hashed names: a stale page must fail)
//   a missing path whose last segment has no '.' -> index.html (client-side
//                                   routes like /containers/abc)
//   anything else                -> 404
// Cache-Control: "public, max-age=31536000, immutable" under /assets/ (the
// bundler puts a content hash in those names), "no-cache" for the rest, so a
// new install is picked up at the next page load.
// Thread-safety: lookup() may run concurrently (it only reads).
// Depends on: base, sys.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/result.h"

namespace berth::dashboard {

// Content-Type for a file name by its extension (application/octet-stream
// when unknown).
std::string content_type_for(std::string_view name);

// True when an Accept-Encoding value accepts gzip (a "gzip" or "*" coding
// whose q is not 0).
bool accepts_gzip(std::string_view accept_encoding);

// The first directory holding an index.html among: `explicit_dir` (when not
// empty: only it), $BERTH_DASHBOARD_DIR (`env_dir`), <exe_dir>/../share/
// berth/dashboard (installed), <exe_dir>/../../dashboard/dist (build tree:
// build/X/cmd/berthd/berthd -> build/X/dashboard/dist). nullopt when none.
std::optional<std::string> find_dashboard_dir(const std::string& explicit_dir,
                                              const std::string& env_dir,
                                              const std::string& exe_dir);

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string cache_control;
  bool gzip = false;  // body is the .gz sibling: send Content-Encoding: gzip
};

class StaticFiles {
 public:
  // Opens `dir`; NotFound when it does not exist or has no index.html.
  static Result<StaticFiles> open(const std::string& dir);
  // `url_path` is percent-decoded, without the query. NotFound -> 404;
  // InvalidArgument for a path with "." / ".." segments or NUL bytes.
  Result<StaticFile> lookup(std::string_view url_path, bool accept_gzip) const;
  const std::string& dir() const { return dir_; }

 private:
  StaticFiles(std::string dir, Fd root) : dir_(std::move(dir)), root_(std::move(root)) {}
  // A regular file at `rel` (relative to the root), read whole.
  Result<std::string> read_regular(const std::string& rel) const;
  Result<StaticFile> file(const std::string& rel, bool accept_gzip, bool immutable) const;

  std::string dir_;
  Fd root_;
};

}  // namespace berth::dashboard
