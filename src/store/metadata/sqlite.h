// store/metadata/sqlite.h — RAII over the sqlite3 C API (internal to
// store/metadata): a connection, prepared statements with typed binding, and
// a transaction guard that rolls back unless committed.
//
// SQLite result codes become berth Errors: constraint violations ->
// InvalidArgument (CHECK/NOT NULL), AlreadyExists (UNIQUE/PRIMARY KEY),
// Conflict (FOREIGN KEY); BUSY/LOCKED -> Unavailable; FULL -> Io "no space
// left on device"; other I/O and corruption -> Io; the rest Internal.
// Not thread-safe: the owner serializes use (MetadataStore holds a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/digest.h"
#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::metadata::sql {

// The Error for SQLite result code `rc` (extended) with the connection's
// message, prefixed by `what`.
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

// The statements a Db keeps prepared for reuse (Db::prepare): parsing and
// planning a statement takes longer than most of this store's statements
// take to run. Each SQL text has one slot; a Stmt borrows it and, when
// destroyed, resets it (ending any read it was in) and gives it back.
// Finalizes what it holds when the Db and every borrower are gone.
struct StmtCache {
  struct Slot {
    sqlite3_stmt* s = nullptr;
    bool busy = false;
  };
  // Distinct SQL texts kept; a program's statements are fixed strings, so
  // this only bounds a caller that builds SQL (those are prepared each time).
  static constexpr size_t kMaxSlots = 256;
  std::unordered_map<std::string, Slot> slots;
  StmtCache() = default;
  StmtCache(const StmtCache&) = delete;
  StmtCache& operator=(const StmtCache&) = delete;
  ~StmtCache();
};

class Stmt {
 public:
  Stmt() = default;
  // Owns s (finalized when destroyed), or borrows it from a cache slot.
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(sqlite3* db, std::shared_ptr<StmtCache> home, StmtCache::Slot* slot)
      : db_(db), s_(slot->s), home_(std::move(home)), slot_(slot) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // 1-based parameter index, as sqlite3_bind_*. Strings are copied.
  void bind(int i, std::string_view v);
  void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }
  void bind(int i, const char* v) { bind(i, std::string_view(v)); }
  void bind(int i, int64_t v);
  void bind(int i, int v) { bind(i, static_cast<int64_t>(v)); }
  void bind(int i, std::nullptr_t);
  // A Digest binds as its "sha256:<hex>" text, an empty one as ''.
  void bind(int i, const Digest& d) { bind(i, d.valid() ? d.str() : std::string()); }
  void bind(int i, const std::optional<Digest>& d);
  void bind(int i, const std::optional<std::string>& v);  // nullopt binds NULL

  // Advances: true when a row is ready, false when done.
  Result<bool> step();
  // Steps to the end (statements without rows).
  Result<void> run();

  bool is_null(int col) const;
  std::string text(int col) const;
  int64_t int64(int col) const;
  // "sha256:<hex>" -> Digest; '' or NULL -> empty Digest; anything else is a
  // corrupt row (Internal, naming the column's value).
  Result<Digest> digest(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  std::shared_ptr<StmtCache> home_;  // set when s_ is a cache slot's
  StmtCache::Slot* slot_ = nullptr;
  const char* sql() const;
  void release();
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  Db(Db&& o) noexcept;
  Db& operator=(Db&& o) noexcept;
  ~Db();

  // Opens (creating) the file with extended result codes, no SQLite-level
  // mutex (the owner serializes), busy timeout 5 s, WAL, synchronous=FULL,
  // foreign_keys=ON.
  static Result<Db> open(const std::string& path);

  // Runs one or more statements without parameters.
  Result<void> exec(std::string_view sql);
  // One statement, from the connection's cache (StmtCache) when its slot is
  // free; a second use of the same text while the first is alive (nested
  // queries) gets a statement of its own.
  Result<Stmt> prepare(std::string_view sql);
  // Prepares and binds args to ?1, ?2, ...
  template <typename... A>
  Result<Stmt> query(std::string_view sql, const A&... args) {
    Stmt s = BERTH_TRY(prepare(sql));
    int i = 0;
    (s.bind(++i, args), ...);
    return s;
  }
  // query + run; returns the number of rows changed.
  template <typename... A>
  Result<int64_t> run(std::string_view sql, const A&... args) {
    Stmt s = BERTH_TRY(query(sql, args...));
    BERTH_TRY(s.run());
    return changes();
  }
  int64_t changes() const;
  // Rows changed by this connection since it opened (sqlite3_total_changes64).
  int64_t total_changes() const;
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::shared_ptr<StmtCache> cache_ = std::make_shared<StmtCache>();
};

// BEGIN IMMEDIATE (writers: takes the write lock up front, so the
// transaction never fails half-way on a lock upgrade) or BEGIN (readers: one
// consistent snapshot across several statements). Rolls back on destruction
// unless commit() succeeded.
class Tx {
 public:
  enum class Mode { Read, Write };
  static Result<Tx> begin(Db& db, Mode m);
  Tx(Tx&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Tx& operator=(Tx&&) = delete;
  Tx(const Tx&) = delete;
  ~Tx();
  Result<void> commit();

 private:
  explicit Tx(Db* db) : db_(db) {}
  Db* db_ = nullptr;
};

// synchronous=NORMAL for its lifetime (then FULL again): commits reach the
// WAL file without an fsync, so they survive the daemon's crash but a power
// loss may undo the last ones. Only for rows whose loss the daemon repairs
// at start-up (each use says how). Hold the store's lock around it.
class RelaxedSync {
 public:
  explicit RelaxedSync(Db& db) : db_(db) { ok_ = set("PRAGMA synchronous=NORMAL"); }
  ~RelaxedSync() {
    if (ok_) (void)set("PRAGMA synchronous=FULL");
  }
  RelaxedSync(const RelaxedSync&) = delete;
  RelaxedSync& operator=(const RelaxedSync&) = delete;

 private:
  // Through Db::prepare: these run twice per relaxed write.
  bool set(std::string_view pragma) {
    auto s = db_.prepare(pragma);
    return s && s->run().has_value();
  }
  Db& db_;
  bool ok_ = false;
};

}  // namespace berth::metadata::sql
