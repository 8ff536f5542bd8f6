// store/metadata/schema.h — numbered schema migrations (internal).
//
// schema_migrations(version, applied_unix) records each applied step. A
// migration runs in its own BEGIN IMMEDIATE transaction together with the
// insert of its version, so a process killed mid-upgrade leaves the database
// at the previous complete version. New tables (containers, volumes,
// networks...) are added as new entries at the end of the list; an applied
// migration is never edited.
#pragma once

#include <span>

#include "base/result.h"
#include "store/metadata/sqlite.h"

namespace berth::metadata {

struct Migration {
  int version;
  const char* sql;
};

// The migrations of this build, ascending.
std::span<const Migration> migrations();

// Applies every migration newer than the database's version; returns the
// resulting version. FailedPrecondition when the database is newer than the
// list (written by a later berth).
Result<int> migrate(sql::Db& db, std::span<const Migration> list);

}  // namespace berth::metadata
