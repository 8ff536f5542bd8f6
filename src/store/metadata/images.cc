// Images, tags and repo digests of the SQLite MetadataStore.
#include <chrono>
#include <unordered_map>

#include "base/json.h"
#include "store/metadata/store_impl.h"

namespace berth::metadata {

namespace {

using sql::Tx;

constexpr const char* kImageColumns =
    "id, manifest, manifest_media_type, created, added_ns, size, os, architecture, variant, "
    "labels";

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string labels_to_json(const std::map<std::string, std::string>& labels) {
  return dump_json(Json(labels));
}

Result<std::map<std::string, std::string>> labels_from_json(const std::string& text,
                                                            const Digest& id) {
  std::map<std::string, std::string> out;
  Json j = BERTH_TRY(parse_json(text, fmt::format("labels of image {}", id.str())));
  if (!j.is_object()) {
    return make_error(Errc::Internal, "metadata: labels of image {} are not a JSON object",
                      id.str());
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) out.emplace(it.key(), it.value().get_ref<const std::string&>());
  }
  return out;
}

// Reads the columns of kImageColumns; chain_ids are filled by the caller.
Result<ImageRecord> image_from_row(const sql::Stmt& s) {
  ImageRecord r;
  r.id = BERTH_TRY(s.digest(0));
  r.manifest = BERTH_TRY(s.digest(1));
  r.manifest_media_type = s.text(2);
  r.created = s.int64(3);
  r.added_ns = s.int64(4);
  r.size = s.int64(5);
  r.os = s.text(6);
  r.architecture = s.text(7);
  r.variant = s.text(8);
  r.labels = BERTH_TRY(labels_from_json(s.text(9), r.id));
  return r;
}

Error image_not_found(const Digest& id) {
  return make_error(Errc::NotFound, "image {} not found", id.str());
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::optional<Digest>> SqliteMetadataStore::tag_target(const std::string& tag) const {
  auto s = BERTH_TRY(db_.query("SELECT image_id FROM tags WHERE name = ?1", tag));
  if (!BERTH_TRY(s.step())) return std::optional<Digest>();
  return std::optional<Digest>(BERTH_TRY(s.digest(0)));
}

Result<bool> SqliteMetadataStore::image_exists(const Digest& id) const {
  auto s = BERTH_TRY(db_.query("SELECT 1 FROM images WHERE id = ?1", id));
  return s.step();
}

Result<std::vector<Digest>> SqliteMetadataStore::chain_of(const Digest& id) const {
  auto s = BERTH_TRY(
      db_.query("SELECT chain_id FROM image_layers WHERE image_id = ?1 ORDER BY position", id));
  std::vector<Digest> out;
  while (BERTH_TRY(s.step())) out.push_back(BERTH_TRY(s.digest(0)));
  return out;
}

Result<std::vector<TagChange>> SqliteMetadataStore::commit_image(const ImageCommit& c) {
  const ImageRecord& im = c.image;
  if (!im.id.valid()) return make_error(Errc::InvalidArgument, "commit_image: image id is empty");
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(
      db_.run("INSERT INTO images (id, manifest, manifest_media_type, created, added_ns, size, os, "
              "architecture, variant, labels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
              "ON CONFLICT (id) DO UPDATE SET manifest = excluded.manifest, "
              "manifest_media_type = excluded.manifest_media_type, created = excluded.created, "
              "size = excluded.size, os = excluded.os, architecture = excluded.architecture, "
              "variant = excluded.variant, labels = excluded.labels",
              im.id, im.manifest, im.manifest_media_type, im.created,
              im.added_ns != 0 ? im.added_ns : now_ns(), im.size, im.os, im.architecture,
              im.variant, labels_to_json(im.labels)));
  BERTH_TRY(db_.run("DELETE FROM image_layers WHERE image_id = ?1", im.id));
  for (size_t i = 0; i < im.chain_ids.size(); ++i) {
    BERTH_TRY(db_.run("INSERT INTO image_layers (image_id, position, chain_id) VALUES (?1, ?2, ?3)",
                      im.id, static_cast<int64_t>(i), im.chain_ids[i]));
  }
  for (const Digest& b : c.blobs) {
    BERTH_TRY(
        db_.run("INSERT OR IGNORE INTO image_blobs (image_id, blob) VALUES (?1, ?2)", im.id, b));
  }
  std::vector<TagChange> moved;
  for (const std::string& tag : c.tags) {
    auto prev = BERTH_TRY(tag_target(tag));
    BERTH_TRY(
        db_.run("INSERT INTO tags (name, image_id) VALUES (?1, ?2) "
                "ON CONFLICT (name) DO UPDATE SET image_id = excluded.image_id",
                tag, im.id));
    if (!prev || *prev != im.id) moved.push_back(TagChange{tag, prev});
  }
  if (c.repo_digest) {
    BERTH_TRY(
        db_.run("INSERT INTO repo_digests (repository, manifest, image_id) "
                "VALUES (?1, ?2, ?3) ON CONFLICT (repository, manifest) "
                "DO UPDATE SET image_id = excluded.image_id",
                c.repo_digest->repository, c.repo_digest->manifest, im.id));
  }
  if (c.release_lease) BERTH_TRY(db_.run("DELETE FROM leases WHERE id = ?1", *c.release_lease));
  BERTH_TRY(tx.commit());
  return moved;
}

Result<ImageRecord> SqliteMetadataStore::get_image(const Digest& id) const {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Read));
  auto s =
      BERTH_TRY(db_.query(fmt::format("SELECT {} FROM images WHERE id = ?1", kImageColumns), id));
  if (!BERTH_TRY(s.step())) return image_not_found(id);
  ImageRecord r = BERTH_TRY(image_from_row(s));
  r.chain_ids = BERTH_TRY(chain_of(id));
  BERTH_TRY(tx.commit());
  return r;
}

Result<Digest> SqliteMetadataStore::resolve_image_prefix(std::string_view hex_prefix) const {
  std::string_view p = hex_prefix;
  if (p.starts_with("sha256:")) p.remove_prefix(7);
  if (p.empty() || p.size() > 64 || !is_lower_hex(p))
    return make_error(Errc::NotFound, "image {} not found", hex_prefix);
  std::lock_guard lock(mu_);
  // A range scan on the primary key: every hex digit sorts below 'g'.
  std::string lo = fmt::format("sha256:{}", p);
  auto s = BERTH_TRY(db_.query(
      "SELECT id FROM images WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2", lo, lo + "g"));
  if (!BERTH_TRY(s.step())) return make_error(Errc::NotFound, "image {} not found", hex_prefix);
  Digest first = BERTH_TRY(s.digest(0));
  if (BERTH_TRY(s.step()))
    return make_error(Errc::Conflict, "multiple IDs found with provided prefix: {}", hex_prefix);
  return first;
}

Result<std::pair<int64_t, int64_t>> SqliteMetadataStore::change_stamp() const {
  std::lock_guard lock(mu_);
  // PRAGMA data_version starts a read transaction, so it sees commits of
  // other connections (SQLITE_FCNTL_DATA_VERSION alone may not yet).
  auto s = BERTH_TRY(db_.prepare("PRAGMA data_version"));
  if (!BERTH_TRY(s.step())) return make_error(Errc::Internal, "PRAGMA data_version: no row");
  return std::make_pair(s.int64(0), db_.total_changes());
}

Result<std::vector<ImageRecord>> SqliteMetadataStore::list_images() const {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Read));
  std::vector<ImageRecord> out;
  std::unordered_map<std::string, size_t> index;
  auto s = BERTH_TRY(
      db_.prepare(fmt::format("SELECT {} FROM images ORDER BY added_ns DESC, id", kImageColumns)));
  while (BERTH_TRY(s.step())) {
    index.emplace(s.text(0), out.size());
    out.push_back(BERTH_TRY(image_from_row(s)));
  }
  auto l = BERTH_TRY(
      db_.prepare("SELECT image_id, chain_id FROM image_layers ORDER BY image_id, position"));
  while (BERTH_TRY(l.step())) {
    auto it = index.find(l.text(0));
    if (it != index.end()) out[it->second].chain_ids.push_back(BERTH_TRY(l.digest(1)));
  }
  BERTH_TRY(tx.commit());
  return out;
}

Result<std::vector<std::string>> SqliteMetadataStore::tags_of(const Digest& id) const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(db_.query("SELECT name FROM tags WHERE image_id = ?1 ORDER BY name", id));
  std::vector<std::string> out;
  while (BERTH_TRY(s.step())) out.push_back(s.text(0));
  return out;
}

Result<std::vector<RepoDigest>> SqliteMetadataStore::repo_digests_of(const Digest& id) const {
  std::lock_guard lock(mu_);
  auto s =
      BERTH_TRY(db_.query("SELECT repository, manifest FROM repo_digests WHERE image_id = ?1 "
                          "ORDER BY repository, manifest",
                          id));
  std::vector<RepoDigest> out;
  while (BERTH_TRY(s.step())) out.push_back(RepoDigest{s.text(0), BERTH_TRY(s.digest(1))});
  return out;
}

Result<std::map<Digest, std::vector<std::string>>> SqliteMetadataStore::all_tags() const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(db_.prepare("SELECT image_id, name FROM tags ORDER BY image_id, name"));
  std::map<Digest, std::vector<std::string>> out;
  while (BERTH_TRY(s.step())) out[BERTH_TRY(s.digest(0))].push_back(s.text(1));
  return out;
}

Result<std::map<Digest, std::vector<RepoDigest>>> SqliteMetadataStore::all_repo_digests() const {
  std::lock_guard lock(mu_);
  auto s =
      BERTH_TRY(db_.prepare("SELECT image_id, repository, manifest FROM repo_digests "
                            "ORDER BY image_id, repository, manifest"));
  std::map<Digest, std::vector<RepoDigest>> out;
  while (BERTH_TRY(s.step()))
    out[BERTH_TRY(s.digest(0))].push_back(RepoDigest{s.text(1), BERTH_TRY(s.digest(2))});
  return out;
}

Result<std::vector<Digest>> SqliteMetadataStore::blobs_of(const Digest& id) const {
  std::lock_guard lock(mu_);
  auto s =
      BERTH_TRY(db_.query("SELECT blob FROM image_blobs WHERE image_id = ?1 ORDER BY blob", id));
  std::vector<Digest> out;
  while (BERTH_TRY(s.step())) out.push_back(BERTH_TRY(s.digest(0)));
  return out;
}

Result<void> SqliteMetadataStore::delete_image(const Digest& id) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  // Tags, repo digests, blob references and the layer chain go with it
  // (ON DELETE CASCADE).
  if (BERTH_TRY(db_.run("DELETE FROM images WHERE id = ?1", id)) == 0) return image_not_found(id);
  return tx.commit();
}

Result<std::optional<Digest>> SqliteMetadataStore::lookup_tag(const std::string& tag) const {
  std::lock_guard lock(mu_);
  return tag_target(tag);
}

Result<TagChange> SqliteMetadataStore::set_tag(const std::string& tag, const Digest& image) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  if (!BERTH_TRY(image_exists(image))) return image_not_found(image);
  auto prev = BERTH_TRY(tag_target(tag));
  BERTH_TRY(
      db_.run("INSERT INTO tags (name, image_id) VALUES (?1, ?2) "
              "ON CONFLICT (name) DO UPDATE SET image_id = excluded.image_id",
              tag, image));
  BERTH_TRY(tx.commit());
  return TagChange{tag, prev};
}

Result<void> SqliteMetadataStore::delete_tag(const std::string& tag) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  if (BERTH_TRY(db_.run("DELETE FROM tags WHERE name = ?1", tag)) == 0)
    return make_error(Errc::NotFound, "tag {} not found", tag);
  return tx.commit();
}

Result<std::optional<Digest>> SqliteMetadataStore::lookup_repo_digest(
    const std::string& repository, const Digest& manifest) const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(
      db_.query("SELECT image_id FROM repo_digests WHERE repository = ?1 AND manifest = ?2",
                repository, manifest));
  if (!BERTH_TRY(s.step())) return std::optional<Digest>();
  return std::optional<Digest>(BERTH_TRY(s.digest(0)));
}

Result<void> SqliteMetadataStore::delete_repo_digests(const Digest& image,
                                                      const std::string& repository) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(Tx::begin(db_, Tx::Mode::Write));
  BERTH_TRY(db_.run("DELETE FROM repo_digests WHERE image_id = ?1 AND repository = ?2", image,
                    repository));
  return tx.commit();
}

}  // namespace berth::metadata
