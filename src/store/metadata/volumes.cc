// store/metadata/volumes.cc — named volume records (migration v5). The rows
// say which volumes exist; the volume module owns their directories and
// orders its writes so that a row never outlives a crash without its dir.
#include <fmt/format.h>

#include "store/metadata/store_impl.h"

namespace berth::metadata {

namespace {

constexpr const char* kColumns = "name, driver, labels, options, created, anonymous";

VolumeRow volume_of(const sql::Stmt& s) {
  VolumeRow r;
  r.name = s.text(0);
  r.driver = s.text(1);
  r.labels = s.text(2);
  r.options = s.text(3);
  r.created_ns = s.int64(4);
  r.anonymous = s.int64(5) != 0;
  return r;
}

}  // namespace

Result<void> SqliteMetadataStore::insert_volume(const VolumeRow& row) {
  if (row.name.empty()) return make_error(Errc::InvalidArgument, "volume row without a name");
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(sql::Tx::begin(db_, sql::Tx::Mode::Write));
  auto r = db_.run(
      "INSERT INTO volumes (name, driver, labels, options, created, anonymous) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      row.name, row.driver, row.labels, row.options, row.created_ns,
      static_cast<int64_t>(row.anonymous ? 1 : 0));
  if (!r) {
    if (r.error().code == Errc::AlreadyExists) {
      return make_error(Errc::AlreadyExists, "volume {} already exists", row.name);
    }
    return std::move(r).error();
  }
  BERTH_TRY(tx.commit());
  return {};
}

Result<std::optional<VolumeRow>> SqliteMetadataStore::get_volume(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto s =
      BERTH_TRY(db_.query(fmt::format("SELECT {} FROM volumes WHERE name = ?1", kColumns), name));
  if (!BERTH_TRY(s.step())) return std::optional<VolumeRow>();
  return std::optional<VolumeRow>(volume_of(s));
}

Result<std::vector<VolumeRow>> SqliteMetadataStore::list_volumes() const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(db_.query(fmt::format("SELECT {} FROM volumes ORDER BY name", kColumns)));
  std::vector<VolumeRow> out;
  while (BERTH_TRY(s.step())) out.push_back(volume_of(s));
  return out;
}

Result<void> SqliteMetadataStore::delete_volume(const std::string& name) {
  std::lock_guard lock(mu_);
  int64_t n = BERTH_TRY(db_.run("DELETE FROM volumes WHERE name = ?1", name));
  if (n == 0) return make_error(Errc::NotFound, "no volume row {}", name);
  return {};
}

}  // namespace berth::metadata
