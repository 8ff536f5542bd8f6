#include <sqlite3.h>

#include <optional>
#include <vector>

#include "store/metadata/schema.h"
#include "store/metadata/sqlite.h"
#include "store/metadata/test_fixture.h"

namespace berth::metadata {
namespace {

std::string one_text(sql::Db& db, const char* q) {
  auto s = db.prepare(q);
  EXPECT_TRUE(s.has_value()) << s.error().message;
  if (!s || !s->step().value_or(false)) return "<none>";
  return s->text(0);
}

TEST_F(MetaTest, OpenSetsPragmasAndAppliesEveryMigration) {
  EXPECT_EQ(store_->schema_version(), migrations().back().version);
  auto db = sql::Db::open(db_path_);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  EXPECT_EQ(one_text(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(one_text(*db, "PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(one_text(*db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(one_text(*db, "PRAGMA busy_timeout"), "5000");
  EXPECT_EQ(one_text(*db, "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(migrations().size()));
}

TEST_F(MetaTest, OpeningTwiceIsIdempotentAndKeepsData) {
  ASSERT_TRUE(store_->commit_image(image(d("img"), {d("l1")}, {"x:1"})).has_value());
  int v = store_->schema_version();
  reopen();
  reopen();
  EXPECT_EQ(store_->schema_version(), v);
  EXPECT_EQ(store_->lookup_tag("x:1").value(), std::optional<Digest>(d("img")));
  auto db = sql::Db::open(db_path_);
  EXPECT_EQ(one_text(*db, "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(migrations().size()));
}

TEST_F(MetaTest, FailedMigrationLeavesThePreviousVersion) {
  auto db = sql::Db::open(dir_ + "/m.db").value();
  const Migration bad[] = {
      {1, "CREATE TABLE a (x INTEGER);"},
      {2, "CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1);"},
  };
  auto r = migrate(db, bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("schema migration 2"), std::string::npos) << r.error().message;
  EXPECT_EQ(one_text(db, "SELECT MAX(version) FROM schema_migrations"), "1");
  EXPECT_EQ(one_text(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'"), "0");
  const Migration fixed[] = {
      {1, "CREATE TABLE a (x INTEGER);"},
      {2, "CREATE TABLE b (x INTEGER);"},
  };
  EXPECT_EQ(migrate(db, fixed).value(), 2);
  EXPECT_EQ(migrate(db, fixed).value(), 2);
  // A database written by a newer berth is refused, not downgraded.
  auto older = migrate(db, std::span<const Migration>(fixed, 1));
  ASSERT_FALSE(older.has_value());
  EXPECT_EQ(older.error().code, Errc::FailedPrecondition);
}

TEST_F(MetaTest, TxRollsBackUnlessCommitted) {
  auto db = sql::Db::open(dir_ + "/t.db").value();
  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").has_value());
  {
    auto tx = sql::Tx::begin(db, sql::Tx::Mode::Write).value();
    ASSERT_TRUE(db.run("INSERT INTO t VALUES (?1)", 1).has_value());
  }
  EXPECT_EQ(one_text(db, "SELECT COUNT(*) FROM t"), "0");
  {
    auto tx = sql::Tx::begin(db, sql::Tx::Mode::Write).value();
    ASSERT_TRUE(db.run("INSERT INTO t VALUES (?1)", 1).has_value());
    ASSERT_TRUE(tx.commit().has_value());
  }
  EXPECT_EQ(one_text(db, "SELECT COUNT(*) FROM t"), "1");
}

TEST_F(MetaTest, SqliteErrorsMapToErrc) {
  auto db = sql::Db::open(dir_ + "/e.db").value();
  ASSERT_TRUE(db.exec("CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT CHECK (v != ''));"
                      "CREATE TABLE c (p INTEGER REFERENCES p(id));")
                  .has_value());
  ASSERT_TRUE(db.run("INSERT INTO p VALUES (1, 'a')").has_value());
  auto dup = db.run("INSERT INTO p VALUES (1, 'b')");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, Errc::AlreadyExists);
  auto check = db.run("INSERT INTO p VALUES (2, '')");
  ASSERT_FALSE(check.has_value());
  EXPECT_EQ(check.error().code, Errc::InvalidArgument);
  EXPECT_NE(check.error().message.find("CHECK constraint failed"), std::string::npos);
  auto fk = db.run("INSERT INTO c VALUES (7)");
  ASSERT_FALSE(fk.has_value());
  EXPECT_EQ(fk.error().code, Errc::Conflict);
  auto syntax = db.prepare("SELEC 1");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code, Errc::Internal);
  auto full = sql::sqlite_error(nullptr, SQLITE_FULL, "commit");
  EXPECT_EQ(full.code, Errc::Io);
  EXPECT_EQ(full.message, "commit: no space left on device");
}

TEST_F(MetaTest, CorruptDigestInARowIsAnError) {
  auto db = sql::Db::open(db_path_).value();
  // A row no store method would write (the foreign key would refuse it too).
  ASSERT_TRUE(db.exec("PRAGMA foreign_keys=OFF").has_value());
  ASSERT_TRUE(
      db.run("INSERT INTO tags (name, image_id) VALUES ('bad:tag', 'sha256:nothex')").has_value());
  auto r = store_->lookup_tag("bad:tag");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Internal);
  EXPECT_NE(r.error().message.find("sha256:nothex"), std::string::npos);
}

int statements_of(sql::Db& db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.get(), nullptr); s;
       s = sqlite3_next_stmt(db.get(), s))
    n++;
  return n;
}

bool any_statement_busy(sql::Db& db) {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.get(), nullptr); s;
       s = sqlite3_next_stmt(db.get(), s))
    if (sqlite3_stmt_busy(s)) return true;
  return false;
}

// Db::prepare keeps one statement per SQL text: prepared once, reset and
// unbound when given back, so a reuse sees none of the last use's state.
TEST_F(MetaTest, PreparedStatementsAreReusedResetAndUnbound) {
  auto db = sql::Db::open(dir_ + "/c.db").value();
  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").has_value());
  for (int i = 1; i <= 5; i++) ASSERT_TRUE(db.run("INSERT INTO t VALUES (?1)", i).has_value());
  int before = statements_of(db);
  for (int i = 0; i < 50; i++) {
    auto q = db.query("SELECT x FROM t WHERE x >= ?1 ORDER BY x", 2).value();
    ASSERT_TRUE(q.step().value());  // left mid-way: its read must end when it goes
    EXPECT_EQ(q.int64(0), 2);
  }
  EXPECT_EQ(statements_of(db), before + 1) << "one statement for one text";
  EXPECT_FALSE(any_statement_busy(db)) << "a statement given back is reset";
  {
    auto q = db.query("SELECT ?1", 5).value();
    ASSERT_TRUE(q.step().value());
    EXPECT_EQ(q.int64(0), 5);
  }
  auto again = db.prepare("SELECT ?1").value();
  ASSERT_TRUE(again.step().value());
  EXPECT_TRUE(again.is_null(0)) << "the last use's value is not bound any more";
}

// The same text used again while its first use is alive (a query inside a
// loop over the same query's rows) gets a statement of its own.
TEST_F(MetaTest, NestedUseOfOneStatementTextGetsItsOwnStatement) {
  auto db = sql::Db::open(dir_ + "/n.db").value();
  ASSERT_TRUE(db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").has_value());
  for (int i = 1; i <= 3; i++) ASSERT_TRUE(db.run("INSERT INTO t VALUES (?1)", i).has_value());
  const char* q = "SELECT x FROM t WHERE x >= ?1 ORDER BY x";
  std::vector<int64_t> pairs;
  auto outer = db.query(q, 1).value();
  while (outer.step().value()) {
    auto inner = db.query(q, outer.int64(0)).value();
    while (inner.step().value()) pairs.push_back(outer.int64(0) * 10 + inner.int64(0));
  }
  EXPECT_EQ(pairs, (std::vector<int64_t>{11, 12, 13, 22, 23, 33}));
}

// Statements built from varying text are not kept past the cache's bound;
// a failed prepare leaves no slot; a statement outliving its Db (moved or
// closed) is still safe to drop.
TEST_F(MetaTest, StatementCacheIsBoundedAndOutlivesItsDb) {
  auto db = sql::Db::open(dir_ + "/b.db").value();
  for (size_t i = 0; i < sql::StmtCache::kMaxSlots + 50; i++)
    ASSERT_TRUE(db.prepare("SELECT " + std::to_string(i)).has_value());
  EXPECT_LE(statements_of(db), static_cast<int>(sql::StmtCache::kMaxSlots));
  auto other = sql::Db::open(dir_ + "/o.db").value();
  const int kept = statements_of(other);  // Db::open's own
  ASSERT_FALSE(other.prepare("SELEC 1").has_value());
  ASSERT_FALSE(other.prepare("SELEC 1").has_value()) << "the failure is not cached";
  EXPECT_EQ(statements_of(other), kept);
  std::optional<sql::Stmt> alive = other.prepare("SELECT 7").value();
  {
    sql::Db moved = std::move(other);
    ASSERT_TRUE(alive->step().value());
    EXPECT_EQ(alive->int64(0), 7);
  }  // the connection closes with a statement still out
  alive.reset();
}

TEST(MetadataOpen, BadPathIsAnError) {
  EXPECT_FALSE(MetadataStore::open("").has_value());
  auto r = MetadataStore::open("/nonexistent-berth-dir/sub/metadata.db");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Io);
}

}  // namespace
}  // namespace berth::metadata
