// store/content/ingest.h — the resumable, flock-guarded partial write behind
// ContentStore::ingest (internal to store/content).
//
// ingest/<sha256(key) hex>/ holds: lock (flocked LOCK_EX for the writer's
// lifetime), ref (the key, for list_ingests), data (the bytes so far). The
// directory name is a hash, so no key ("../x", "/etc", a newline) can name a
// path outside ingest/.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "store/content/content_store.h"
#include "store/content/layout.h"

namespace berth::content::detail {

std::string ingest_dir_name(std::string_view key);

// Opens or resumes the ingest of `key`. Unavailable when another writer holds
// its lock.
Result<std::unique_ptr<Ingest>> open_ingest(const Layout& l, std::string_view key);

// Takes the lock of ingest dir `dir` without blocking; an invalid Fd when it
// is held or the directory vanished. Used by prune to skip live writers.
Fd try_lock_ingest_dir(const std::string& dir);

}  // namespace berth::content::detail
