// store/content/content_store.h — content-addressed blob store.
//
// Layout under root (= <data-root>/content):
//   blobs/sha256/<hex>        committed, verified blobs (read-only, mode 0444)
//   ingest/<key-hash>/data    partial writes, resumable; ingest/<key-hash>/ref
//                             holds the caller's key; ingest/<key-hash>/lock is
//                             flocked by the writer.
// Guarantees:
//   - A blob under blobs/ always hashes to its name and its size is what the
//     writer declared: commit() verifies size and digest, fsyncs the data and
//     the directory, then renames it into place (temp -> fsync -> rename).
//   - A partial write survives process death; ingest(key) of the same key
//     reopens it and offset() tells how many bytes are already there (the
//     hash state is rebuilt by re-reading them).
//   - Two writers of one key never interleave: the second ingest() of a key
//     whose lock is held gets Errc::Unavailable ("ingest KEY is in use").
//     Callers that want to wait dedupe in-process (see image/).
// Thread-safety: ContentStore methods are safe to call concurrently; an
// Ingest object is used by one thread at a time.
// Depends on: base, sys.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/fd.h"
#include "base/result.h"

namespace berth::content {

struct BlobInfo {
  Digest digest;
  int64_t size = 0;
};

class Ingest {
 public:
  virtual ~Ingest() = default;  // closes; the partial data stays for a resume
  // Bytes already written (after a resume: what the earlier writer left).
  virtual int64_t offset() const = 0;
  // Appends. Errors are Io with errno (ENOSPC -> "no space left on device").
  virtual Result<void> write(std::string_view data) = 0;
  // Drops the data written so far (a resume that the server refused with 200
  // instead of 206 starts again from 0).
  virtual Result<void> truncate() = 0;
  // Verifies and commits. expected_size < 0 means "unknown". On a mismatch
  // the partial data is deleted and InvalidArgument names both values
  // ("digest mismatch: expected sha256:..., got sha256:..." /
  // "size mismatch for sha256:...: expected N bytes, got M"). When the blob
  // already exists the partial data is discarded and the existing blob wins.
  // An empty (invalid) `expected` means "unknown": the blob is named by what
  // was written. After commit (or a failed one) the object accepts no more
  // calls (FailedPrecondition); a commit that failed on I/O leaves the data
  // for a new ingest() of the key.
  virtual Result<BlobInfo> commit(int64_t expected_size, const Digest& expected) = 0;
  // Deletes the partial data now.
  virtual void abort() = 0;
};

struct IngestInfo {
  std::string key;
  int64_t size = 0;
  std::chrono::system_clock::time_point updated;
};

class ContentStore {
 public:
  // Creates root/blobs/sha256 and root/ingest when missing.
  static Result<std::unique_ptr<ContentStore>> open(const std::string& root);
  virtual ~ContentStore() = default;

  virtual bool exists(const Digest& d) const = 0;
  // NotFound: "blob sha256:... not found".
  virtual Result<BlobInfo> info(const Digest& d) const = 0;
  virtual std::string path(const Digest& d) const = 0;      // blobs/sha256/<hex>
  virtual Result<Fd> open_blob(const Digest& d) const = 0;  // O_RDONLY|O_CLOEXEC
  // Whole blob into memory (manifests, configs): refuses blobs > max_size.
  virtual Result<std::string> read(const Digest& d, int64_t max_size = 64 << 20) const = 0;

  // Opens (or resumes) the partial write named `key` (any string; callers use
  // the expected digest). Unavailable when another writer holds it.
  virtual Result<std::unique_ptr<Ingest>> ingest(std::string_view key) = 0;
  // Writes a whole small blob (manifest, config, index) in one go; returns
  // its digest. Idempotent.
  virtual Result<BlobInfo> put(std::string_view data) = 0;
  // Hashes an existing file and moves/copies it in (docker load, import).
  // The file is consumed (renamed when on the same filesystem, else copied).
  virtual Result<BlobInfo> put_file(const std::string& file) = 0;

  virtual Result<void> remove(const Digest& d) = 0;  // NotFound when absent
  virtual Result<std::vector<BlobInfo>> list() const = 0;
  virtual Result<std::vector<IngestInfo>> list_ingests() const = 0;
  // Removes partial writes not updated since `older_than` and not locked.
  virtual Result<int> prune_ingests(std::chrono::system_clock::time_point older_than) = 0;
  virtual const std::string& root() const = 0;
};

}  // namespace berth::content
