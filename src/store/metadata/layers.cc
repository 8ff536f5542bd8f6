// Layers (committed snapshots) and the blob -> diff_id map of the SQLite
// MetadataStore.
#include "store/metadata/store_impl.h"

namespace berth::metadata {

namespace {

using sql::Tx;

Result<LayerRecord> layer_from_row(const sql::Stmt& s) {
  LayerRecord l;
  l.chain_id = BERTH_TRY(s.digest(0));
  if (!s.is_null(1)) l.parent = BERTH_TRY(s.digest(1));
  l.diff_id = BERTH_TRY(s.digest(2));
  l.snapshot_key = s.text(3);
  l.size = s.int64(4);
  return l;
}

Result<BlobLayer> blob_layer_from_row(const sql::Stmt& s) {
  BlobLayer b;
  b.blob = BERTH_TRY(s.digest(0));
  b.diff_id = BERTH_TRY(s.digest(1));
  b.media_type = s.text(2);
  b.size = s.int64(3);
  return b;
}

}  // namespace

Result<void> SqliteMetadataStore::put_layer(const LayerRecord& l) {
  if (!l.chain_id.valid() || !l.diff_id.valid())
    return make_error(Errc::InvalidArgument, "put_layer: chain_id and diff_id are required");
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(
      db_.run("INSERT INTO layers (chain_id, parent, diff_id, snapshot_key, size) "
              "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (chain_id) DO UPDATE SET "
              "parent = excluded.parent, diff_id = excluded.diff_id, "
              "snapshot_key = excluded.snapshot_key, size = excluded.size",
              l.chain_id, l.parent, l.diff_id, l.snapshot_key, l.size));
  return tx.commit();
}

Result<std::optional<LayerRecord>> SqliteMetadataStore::get_layer(const Digest& chain_id) const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(db_.query(
      "SELECT chain_id, parent, diff_id, snapshot_key, size FROM layers WHERE chain_id = ?1",
      chain_id));
  if (!BERTH_TRY(s.step())) return std::optional<LayerRecord>();
  return std::optional<LayerRecord>(BERTH_TRY(layer_from_row(s)));
}

Result<void> SqliteMetadataStore::delete_layer(const Digest& chain_id) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  // The image rows are the truth about what is in use; refusing here keeps a
  // GC bug from orphaning an image's chain.
  auto s = BERTH_TRY(
      db_.query("SELECT image_id FROM image_layers WHERE chain_id = ?1 LIMIT 1", chain_id));
  if (BERTH_TRY(s.step())) {
    return make_error(Errc::Conflict, "layer {} is used by image {}", chain_id.str(), s.text(0));
  }
  BERTH_TRY(db_.run("DELETE FROM layers WHERE chain_id = ?1", chain_id));
  return tx.commit();
}

Result<void> SqliteMetadataStore::put_blob_layer(const BlobLayer& b) {
  if (!b.blob.valid() || !b.diff_id.valid())
    return make_error(Errc::InvalidArgument, "put_blob_layer: blob and diff_id are required");
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(
      db_.run("INSERT INTO blob_layers (blob, diff_id, media_type, size) "
              "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (blob) DO UPDATE SET "
              "diff_id = excluded.diff_id, media_type = excluded.media_type, "
              "size = excluded.size",
              b.blob, b.diff_id, b.media_type, b.size));
  return tx.commit();
}

Result<std::optional<BlobLayer>> SqliteMetadataStore::blob_layer(const Digest& blob) const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(
      db_.query("SELECT blob, diff_id, media_type, size FROM blob_layers WHERE blob = ?1", blob));
  if (!BERTH_TRY(s.step())) return std::optional<BlobLayer>();
  return std::optional<BlobLayer>(BERTH_TRY(blob_layer_from_row(s)));
}

Result<std::vector<BlobLayer>> SqliteMetadataStore::blobs_for_diff(const Digest& diff_id) const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(db_.query(
      "SELECT blob, diff_id, media_type, size FROM blob_layers WHERE diff_id = ?1 ORDER BY blob",
      diff_id));
  std::vector<BlobLayer> out;
  while (BERTH_TRY(s.step())) out.push_back(BERTH_TRY(blob_layer_from_row(s)));
  return out;
}

// Declared in store_impl.h for gc_roots (leases.cc).
Result<std::vector<LayerRecord>> all_layers(sql::Db& db) {
  auto s =
      BERTH_TRY(db.prepare("SELECT chain_id, parent, diff_id, snapshot_key, size FROM layers "
                           "ORDER BY chain_id"));
  std::vector<LayerRecord> out;
  while (BERTH_TRY(s.step())) out.push_back(BERTH_TRY(layer_from_row(s)));
  return out;
}

}  // namespace berth::metadata
