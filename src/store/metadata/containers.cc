// store/metadata/containers.cc — the engine's container rows (migration v4).
// Names are stored without the leading "/"; the UNIQUE index on name turns
// a second holder into Conflict "name in use".
#include <fmt/format.h>
#include <optional>

#include "store/metadata/store_impl.h"

namespace berth::metadata {

namespace {

// A UNIQUE violation on name (or on the id) as the contract names it.
Error name_conflict(const Error& e, const std::string& name) {
  if (e.code == Errc::AlreadyExists || e.code == Errc::Conflict) {
    return Error{Errc::Conflict, 0, fmt::format("name in use: {}", name)};
  }
  return e;
}

}  // namespace

Result<void> SqliteMetadataStore::put_container(const ContainerRow& row, Durability d) {
  if (row.id.empty()) return make_error(Errc::InvalidArgument, "container row without an id");
  std::lock_guard lock(mu_);
  std::optional<sql::RelaxedSync> relaxed;
  if (d == Durability::ProcessCrashSafe) relaxed.emplace(db_);
  auto tx = BERTH_TRY(sql::Tx::begin(db_, sql::Tx::Mode::Write));
  // Another row holding the name is a conflict; the same id is replaced.
  {
    auto s = BERTH_TRY(
        db_.query("SELECT id FROM containers WHERE name = ?1 AND id != ?2", row.name, row.id));
    if (BERTH_TRY(s.step())) {
      return Error{Errc::Conflict, 0, fmt::format("name in use: {}", row.name)};
    }
  }
  auto r = db_.run(
      "INSERT INTO containers (id, name, image_id, created, config, state) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(id) DO UPDATE SET name = excluded.name, image_id = excluded.image_id, "
      "created = excluded.created, config = excluded.config, state = excluded.state",
      row.id, row.name, row.image, row.created_ns, row.config, row.state);
  if (!r) return name_conflict(r.error(), row.name);
  BERTH_TRY(tx.commit());
  return {};
}

Result<void> SqliteMetadataStore::update_container_state(const std::string& id,
                                                         const std::string& state) {
  std::lock_guard lock(mu_);
  // Written without fsync (WAL with synchronous=NORMAL: the commit is in
  // the WAL file, so it survives the daemon's crash, not a power loss). A
  // state row describes processes that a power loss ends anyway; restore
  // reconciles it with the monitors it finds. Saves one fsync per start,
  // stop and exit.
  sql::RelaxedSync relaxed(db_);
  auto n = db_.run("UPDATE containers SET state = ?2 WHERE id = ?1", id, state);
  if (!n) return std::move(n).error();
  if (*n == 0) return make_error(Errc::NotFound, "no container row {}", id);
  return {};
}

Result<void> SqliteMetadataStore::rename_container(const std::string& id,
                                                   const std::string& new_name) {
  std::lock_guard lock(mu_);
  auto r = db_.run("UPDATE containers SET name = ?2 WHERE id = ?1", id, new_name);
  if (!r) return name_conflict(r.error(), new_name);
  if (*r == 0) return make_error(Errc::NotFound, "no container row {}", id);
  return {};
}

Result<void> SqliteMetadataStore::delete_container(const std::string& id) {
  std::lock_guard lock(mu_);
  // Without fsync: the engine deletes the row after moving the container's
  // directory to the trash, and restore finishes the removal of a row whose
  // directory is gone (what a power loss right after this would bring back).
  sql::RelaxedSync relaxed(db_);
  int64_t n = BERTH_TRY(db_.run("DELETE FROM containers WHERE id = ?1", id));
  if (n == 0) return make_error(Errc::NotFound, "no container row {}", id);
  return {};
}

Result<std::vector<ContainerRow>> SqliteMetadataStore::list_containers() const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(
      db_.query("SELECT id, COALESCE(name, ''), image_id, created, config, state FROM containers "
                "ORDER BY created, id"));
  std::vector<ContainerRow> out;
  while (BERTH_TRY(s.step())) {
    ContainerRow r;
    r.id = s.text(0);
    r.name = s.text(1);
    r.image = BERTH_TRY(s.digest(2));
    r.created_ns = s.int64(3);
    r.config = s.text(4);
    r.state = s.text(5);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace berth::metadata
