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

Stmt::Stmt(Stmt&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), s_(std::exchange(o.s_, nullptr)) {}
Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    db_ = std::exchange(o.db_, nullptr);
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}
Stmt::~Stmt() { sqlite3_finalize(s_); }

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

Db::Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}
Db::~Db() { sqlite3_close_v2(db_); }

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
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, rc, fmt::format("prepare \"{}\"", sql));
  return Stmt(db_, s);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }
int64_t Db::total_changes() const { return sqlite3_total_changes64(db_); }

Result<Tx> Tx::begin(Db& db, Mode m) {
  BERTH_TRY(db.exec(m == Mode::Write ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Tx(&db);
}

Tx::~Tx() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Result<void> Tx::commit() {
  if (!db_) return make_error(Errc::Internal, "sqlite: commit of a finished transaction");
  auto r = db_->exec("COMMIT");
  if (!r) return r;  // the destructor rolls back
  db_ = nullptr;
  return ok();
}

}  // namespace berth::metadata::sql
