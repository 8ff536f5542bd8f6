// store/content/layout.h — the directory layout of a content store and the
// one step that makes a verified file a blob (internal to store/content).
#pragma once

#include <string>

#include "base/digest.h"
#include "base/result.h"
#include "store/content/content_store.h"

namespace berth::content::detail {

struct Layout {
  std::string root;    // <data-root>/content
  std::string blobs;   // root/blobs/sha256
  std::string ingest;  // root/ingest

  explicit Layout(std::string r)
      : root(std::move(r)), blobs(root + "/blobs/sha256"), ingest(root + "/ingest") {}
  std::string blob_path(const Digest& d) const { return blobs + "/" + d.hex(); }
};

// Moves the file at tmp_path (already written, fsynced, hashing to d, `size`
// bytes) to blobs/<hex> with mode 0444 and fsyncs blobs/. When the blob is
// already there the temp file is unlinked instead and the existing blob wins
// (same name, so same bytes). fd is the open temp file (for fchmod).
Result<BlobInfo> install_blob(const Layout& l, int fd, const std::string& tmp_path, const Digest& d,
                              int64_t size);

}  // namespace berth::content::detail
