// snapshot/layer_reader.h — a layer blob (tar, tar+gzip, tar+zstd, ...) as
// an uncompressed tar, read in one streaming pass that also yields the
// diff id.
//
// Two libarchive readers are chained: `raw_` (compression filters + format
// "raw") decompresses the ByteSource; `tar_` (format tar, no filter) reads
// raw_'s output through a read callback that hashes every byte it hands
// over. After the tar reader reaches its end, finish() drains and hashes
// what it did not read (end-of-archive padding), so the digest covers the
// whole uncompressed stream, exactly what the image config's diff_ids name.
// Memory stays constant: libarchive's buffers plus one ByteSource chunk.
// Not thread-safe: one reader per apply.
#pragma once

#include <archive.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/result.h"
#include "snapshot/snapshotter.h"

namespace berth::snapshot {

class LayerReader {
 public:
  // Opens the decompressing reader (this reads the first chunk to detect
  // the compression). InvalidArgument on a corrupt/unknown stream start.
  static Result<std::unique_ptr<LayerReader>> open(ByteSource src);
  ~LayerReader();
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;

  // Opens the tar reader over the decompressed bytes (once).
  Result<void> open_tar();
  archive* tar() { return tar_; }

  // Next block of uncompressed bytes (hashed); empty at the end. The view
  // is valid until the next call.
  Result<std::string_view> next_raw();

  // Hashes the rest of the stream and returns the digest of all of it.
  Result<Digest> finish();

  // The error for a failed libarchive call on `a`: the ByteSource's own
  // error when it caused the failure, else InvalidArgument "what: <libarchive
  // message>" (corrupt compression, truncated or non-tar data).
  Error error(archive* a, std::string_view what) const;

 private:
  explicit LayerReader(ByteSource src);
  static la_ssize_t raw_read_cb(archive* a, void* self, const void** buf);
  static la_ssize_t tar_read_cb(archive* a, void* self, const void** buf);

  ByteSource src_;
  std::string chunk_;               // current ByteSource chunk (raw_ reads it)
  std::optional<Error> src_error_;  // set when the ByteSource failed
  archive* raw_ = nullptr;
  archive* tar_ = nullptr;
  bool raw_eof_ = false;
  Sha256 sha_;
};

// Decompresses `src` to `sink` (see decompress_layer in snapshotter.h).
Result<Digest> stream_uncompressed(ByteSource src,
                                   const std::function<Result<void>(std::string_view)>& sink);

}  // namespace berth::snapshot
