// Leases, GC roots and container references of the SQLite MetadataStore.
#include <optional>

#include "store/metadata/store_impl.h"

namespace berth::metadata {

namespace {

using sql::Tx;

const char* kind_name(LeaseKind k) { return k == LeaseKind::Blob ? "blob" : "layer"; }

// Re-creating an existing lease (a retried pull) extends it and keeps what
// it already protects. Inside the caller's transaction.
Result<void> upsert_lease(sql::Db& db, const Lease& l) {
  BERTH_TRY(
      db.run("INSERT INTO leases (id, expires_unix) VALUES (?1, ?2) "
             "ON CONFLICT (id) DO UPDATE SET expires_unix = excluded.expires_unix",
             l.id, l.expires_unix));
  return {};
}

}  // namespace

Result<Lease> SqliteMetadataStore::create_lease(const std::string& id, int64_t expires_unix) {
  Lease l{id.empty() ? random_hex_id() : id, expires_unix};
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(upsert_lease(db_, l));
  BERTH_TRY(tx.commit());
  return l;
}

Result<Lease> SqliteMetadataStore::create_lease_with(const std::string& id, int64_t expires_unix,
                                                     LeaseKind kind, const std::string& key,
                                                     Durability d) {
  Lease l{id.empty() ? random_hex_id() : id, expires_unix};
  std::lock_guard lock(mu_);
  std::optional<sql::RelaxedSync> relaxed;
  if (d == Durability::ProcessCrashSafe) relaxed.emplace(db_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(upsert_lease(db_, l));
  BERTH_TRY(
      db_.run("INSERT OR IGNORE INTO lease_resources (lease_id, kind, key) "
              "VALUES (?1, ?2, ?3)",
              l.id, kind_name(kind), key));
  BERTH_TRY(tx.commit());
  return l;
}

Result<void> SqliteMetadataStore::add_lease_resource(const std::string& lease, LeaseKind kind,
                                                     const std::string& key) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  auto s = BERTH_TRY(db_.query("SELECT 1 FROM leases WHERE id = ?1", lease));
  if (!BERTH_TRY(s.step())) return make_error(Errc::NotFound, "lease {} not found", lease);
  BERTH_TRY(
      db_.run("INSERT OR IGNORE INTO lease_resources (lease_id, kind, key) "
              "VALUES (?1, ?2, ?3)",
              lease, kind_name(kind), key));
  return tx.commit();
}

Result<void> SqliteMetadataStore::release_lease(const std::string& id) {
  std::lock_guard lock(mu_);
  // Without fsync: a lease that a power loss brings back is an orphan, and
  // gc() drops leases whose owner is gone.
  sql::RelaxedSync relaxed(db_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(db_.run("DELETE FROM leases WHERE id = ?1", id));  // resources cascade
  return tx.commit();
}

Result<std::vector<Lease>> SqliteMetadataStore::list_leases() const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(db_.prepare("SELECT id, expires_unix FROM leases ORDER BY id"));
  std::vector<Lease> out;
  while (BERTH_TRY(s.step())) out.push_back(Lease{s.text(0), s.int64(1)});
  return out;
}

Result<GcRoots> SqliteMetadataStore::gc_roots(int64_t now_unix) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  GcRoots roots;
  roots.expired_leases_removed =
      static_cast<int>(BERTH_TRY(db_.run("DELETE FROM leases WHERE expires_unix < ?1", now_unix)));

  auto blobs =
      BERTH_TRY(db_.prepare("SELECT blob FROM image_blobs "
                            "UNION SELECT key FROM lease_resources WHERE kind = 'blob'"));
  while (BERTH_TRY(blobs.step())) {
    // A lease may name something that is not a digest (nothing to keep).
    if (auto d = Digest::parse(blobs.text(0))) roots.blobs.insert(*d);
  }
  // Live layers: every image's chain and every leased layer, closed over
  // parents (a layer's snapshot is the lower dir of the layers above it).
  auto layers = BERTH_TRY(
      db_.prepare("WITH RECURSIVE live(chain_id) AS ("
                  "  SELECT chain_id FROM image_layers"
                  "  UNION SELECT key FROM lease_resources WHERE kind = 'layer'"
                  "  UNION SELECT l.parent FROM layers l JOIN live ON l.chain_id = live.chain_id"
                  "        WHERE l.parent IS NOT NULL"
                  ") SELECT chain_id FROM live"));
  while (BERTH_TRY(layers.step())) {
    if (auto d = Digest::parse(layers.text(0))) roots.layers.insert(*d);
  }
  roots.all_layers = BERTH_TRY(all_layers(db_));
  BERTH_TRY(tx.commit());
  return roots;
}

Result<std::vector<std::string>> SqliteMetadataStore::containers_using(const Digest& image) const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(
      db_.query("SELECT id FROM containers WHERE image_id = ?1 ORDER BY created, id", image));
  std::vector<std::string> out;
  while (BERTH_TRY(s.step())) out.push_back(s.text(0));
  return out;
}

}  // namespace berth::metadata
