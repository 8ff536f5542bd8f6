#include "store/metadata/sqlite.h"

#include <sqlite3.h>

#include <cerrno>
#include <utility>

namespace berth::metadata::sql {

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  Errc code = Errc::Internal;
  int sys_errno = 0;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      switch (rc) {
        case SQLITE_CONSTRAINT_FOREIGNKEY:
          code = Errc::Conflict;
          break;
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
          code = Errc::AlreadyExists;
          break;
        default:
          code = Errc::InvalidArgument;
      }
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = Errc::Unavailable;
      break;
    case SQLITE_FULL:
      return Error{Errc::Io, ENOSPC, fmt::format("{}: no space left on device", what)};
    case SQLITE_IOERR:
      // The VFS reports a full disk during a write as IOERR_WRITE/FSYNC with
      // errno ENOSPC rather than SQLITE_FULL.
      if (db && sqlite3_system_errno(db) == ENOSPC)
        return Error{Errc::Io, ENOSPC, fmt::format("{}: no space left on device", what)};
      [[fallthrough]];
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
      code = Errc::Io;
      if (db) sys_errno = sqlite3_system_errno(db);
      break;
    default:
      break;
  }
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{code, sys_errno, fmt::format("{}: {}", what, msg)};
}

StmtCache::~StmtCache() {
  for (auto& [sql, slot] : slots) sqlite3_finalize(slot.s);
}

Stmt::Stmt(Stmt&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)),
      s_(std::exchange(o.s_, nullptr)),
      home_(std::move(o.home_)),
      slot_(std::exchange(o.slot_, nullptr)) {}
Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    release();
    db_ = std::exchange(o.db_, nullptr);
    s_ = std::exchange(o.s_, nullptr);
    home_ = std::move(o.home_);
    slot_ = std::exchange(o.slot_, nullptr);
  }
  return *this;
}
Stmt::~Stmt() { release(); }

void Stmt::release() {
  if (slot_) {
    // Ends the statement's read (a SELECT not stepped to its end holds one)
    // and drops the bound values, as finalizing would.
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    slot_->busy = false;
    slot_ = nullptr;
    home_.reset();
  } else {
    sqlite3_finalize(s_);
  }
  s_ = nullptr;
}

const char* Stmt::sql() const { return s_ ? sqlite3_sql(s_) : ""; }

void Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void Stmt::bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
void Stmt::bind(int i, std::nullptr_t) { sqlite3_bind_null(s_, i); }
void Stmt::bind(int i, const std::optional<std::string>& v) {
  if (v) {
    bind(i, *v);
  } else {
    bind(i, nullptr);
  }
}

void Stmt::bind(int i, const std::optional<Digest>& d) {
  if (d && d->valid()) {
    bind(i, d->str());
  } else {
    bind(i, nullptr);
  }
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, sqlite3_extended_errcode(db_), "sqlite");
}

Result<void> Stmt::run() {
  while (BERTH_TRY(step())) {
  }
  return ok();
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

int64_t Stmt::int64(int col) const { return sqlite3_column_int64(s_, col); }

Result<Digest> Stmt::digest(int col) const {
  std::string t = text(col);
  if (t.empty()) return Digest();
  auto d = Digest::parse(t);
  if (!d) {
    return make_error(Errc::Internal, "metadata: corrupt digest \"{}\" in column {} of \"{}\"", t,
                      sqlite3_column_name(s_, col), sql());
  }
  return d;
}

Db::Db(Db&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), cache_(std::exchange(o.cache_, nullptr)) {}
Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    cache_.reset();
    sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    cache_ = std::exchange(o.cache_, nullptr);
  }
  return *this;
}
// The idle cached statements are finalized first; a Stmt still alive keeps
// the cache, and close_v2 then leaves the connection open until it goes.
Db::~Db() {
  cache_.reset();
  sqlite3_close_v2(db_);
}

Result<Db> Db::open(const std::string& path) {
  Db db;
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db.db_, rc, fmt::format("open {}", path));
  sqlite3_busy_timeout(db.db_, 5000);
  // WAL: readers never block the writer and a commit is one append + fsync.
  // synchronous=FULL: in WAL mode NORMAL may lose the last commits on power
  // loss, and a pull reported done must stay done.
  BERTH_TRY_CTX(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                        "PRAGMA foreign_keys=ON;"),
                path);
  auto mode = BERTH_TRY(db.prepare("PRAGMA journal_mode"));
  if (!BERTH_TRY(mode.step()) || mode.text(0) != "wal")
    return make_error(Errc::Io, "{}: cannot switch to WAL journal mode", path);
  return db;
}

Result<void> Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite_error(db_, sqlite3_extended_errcode(db_), "sqlite");
  return ok();
}

Result<Stmt> Db::prepare(std::string_view sql) {
  StmtCache::Slot* slot = nullptr;
  if (cache_) {
    // C++20 has no heterogeneous lookup for unordered_map without a
    // transparent hash; the key copy is far cheaper than a prepare.
    std::string key(sql);
    auto it = cache_->slots.find(key);
    if (it != cache_->slots.end()) {
      if (!it->second.busy) {
        it->second.busy = true;
        return Stmt(db_, cache_, &it->second);
      }
    } else if (cache_->slots.size() < StmtCache::kMaxSlots) {
      slot = &cache_->slots[std::move(key)];
    }
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) {
    if (slot) cache_->slots.erase(std::string(sql));
    return sqlite_error(db_, rc, fmt::format("prepare \"{}\"", sql));
  }
  if (!slot) return Stmt(db_, s);
  slot->s = s;
  slot->busy = true;
  return Stmt(db_, cache_, slot);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }
int64_t Db::total_changes() const { return sqlite3_total_changes64(db_); }

Result<Tx> Tx::begin(Db& db, Mode m) {
  // Prepared (and so cached), unlike exec's text.
  Stmt begin = BERTH_TRY(db.prepare(m == Mode::Write ? "BEGIN IMMEDIATE" : "BEGIN"));
  BERTH_TRY(begin.run());
  return Tx(&db);
}

Tx::~Tx() {
  if (!db_) return;
  if (auto s = db_->prepare("ROLLBACK")) (void)s->run();
}

Result<void> Tx::commit() {
  if (!db_) return make_error(Errc::Internal, "sqlite: commit of a finished transaction");
  Stmt s = BERTH_TRY(db_->prepare("COMMIT"));
  BERTH_TRY(s.run());  // on failure the destructor rolls back
  db_ = nullptr;
  return ok();
}

}  // namespace berth::metadata::sql
