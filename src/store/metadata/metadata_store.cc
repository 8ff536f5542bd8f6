#include "store/metadata/metadata.h"

#include "store/metadata/schema.h"
#include "store/metadata/store_impl.h"

namespace berth::metadata {

Result<std::unique_ptr<MetadataStore>> MetadataStore::open(const std::string& db_path) {
  if (db_path.empty()) return make_error(Errc::InvalidArgument, "metadata database path is empty");
  sql::Db db = BERTH_TRY(sql::Db::open(db_path));
  int version = BERTH_TRY_CTX(migrate(db, migrations()), db_path);
  return std::unique_ptr<MetadataStore>(new SqliteMetadataStore(std::move(db), version));
}

}  // namespace berth::metadata
