#include "store/metadata/schema.h"

#include <ctime>

namespace berth::metadata {

namespace {

// Digests are stored as their "sha256:<hex>" text. Image labels are a JSON
// object (they are only read back whole, for filters); the layer chain of an
// image is a child table because GC walks it in SQL.
constexpr const char* kV1Images = R"sql(
CREATE TABLE images (
  id TEXT PRIMARY KEY CHECK (length(id) = 71),
  manifest TEXT NOT NULL DEFAULT '',
  manifest_media_type TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL DEFAULT 0,
  added_ns INTEGER NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  os TEXT NOT NULL DEFAULT 'linux',
  architecture TEXT NOT NULL DEFAULT 'amd64',
  variant TEXT NOT NULL DEFAULT '',
  labels TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  chain_id TEXT NOT NULL CHECK (length(chain_id) = 71),
  PRIMARY KEY (image_id, position)
);
CREATE INDEX image_layers_chain ON image_layers(chain_id);
CREATE TABLE image_blobs (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  blob TEXT NOT NULL CHECK (length(blob) = 71),
  PRIMARY KEY (image_id, blob)
);
CREATE INDEX image_blobs_blob ON image_blobs(blob);
CREATE TABLE tags (
  name TEXT PRIMARY KEY CHECK (length(name) > 0),
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX tags_image ON tags(image_id);
CREATE TABLE repo_digests (
  repository TEXT NOT NULL CHECK (length(repository) > 0),
  manifest TEXT NOT NULL CHECK (length(manifest) = 71),
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  PRIMARY KEY (repository, manifest)
);
CREATE INDEX repo_digests_image ON repo_digests(image_id);
CREATE TABLE layers (
  chain_id TEXT PRIMARY KEY CHECK (length(chain_id) = 71),
  parent TEXT,
  diff_id TEXT NOT NULL CHECK (length(diff_id) = 71),
  snapshot_key TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX layers_parent ON layers(parent);
CREATE TABLE blob_layers (
  blob TEXT PRIMARY KEY CHECK (length(blob) = 71),
  diff_id TEXT NOT NULL CHECK (length(diff_id) = 71),
  media_type TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX blob_layers_diff ON blob_layers(diff_id);
)sql";

constexpr const char* kV2Leases = R"sql(
CREATE TABLE leases (
  id TEXT PRIMARY KEY CHECK (length(id) > 0),
  expires_unix INTEGER NOT NULL
);
CREATE TABLE lease_resources (
  lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('blob', 'layer')),
  key TEXT NOT NULL,
  PRIMARY KEY (lease_id, kind, key)
);
)sql";

// Minimal until the container issue adds its own migrations. image_id has no
// foreign key: `rmi -f` may delete an image a stopped container still names.
constexpr const char* kV3Containers = R"sql(
CREATE TABLE containers (
  id TEXT PRIMARY KEY,
  name TEXT UNIQUE,
  image_id TEXT NOT NULL,
  created INTEGER NOT NULL DEFAULT 0,
  config TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX containers_image ON containers(image_id);
)sql";

// v4: the engine's container rows. config and state are engine-owned JSON
// text; the UNIQUE name (without the leading "/") stays; created is unix ns.
constexpr const char* kV4ContainerRows = R"sql(
ALTER TABLE containers ADD COLUMN state TEXT NOT NULL DEFAULT '{}';
)sql";

// v5: named volumes (the volume module owns the directories; this is the
// record). labels and options are JSON objects read back whole; created is
// unix ns; anonymous marks the 64-hex volumes made for one container (prune
// and `rm -v` look at it). Version 6 is reserved for networks.
constexpr const char* kV5Volumes = R"sql(
CREATE TABLE volumes (
  name TEXT PRIMARY KEY CHECK (length(name) > 0),
  driver TEXT NOT NULL DEFAULT 'local',
  labels TEXT NOT NULL DEFAULT '{}',
  options TEXT NOT NULL DEFAULT '{}',
  created INTEGER NOT NULL DEFAULT 0,
  anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1))
);
)sql";

// v6: networks and their endpoints (IPAM). An endpoint row is an address
// handed out: UNIQUE (network_id, ip4) makes a second holder of one address
// impossible even across a crash; endpoints go with their network. config
// and data are engine-owned JSON text.
constexpr const char* kV6Networks = R"sql(
CREATE TABLE networks (
  id TEXT PRIMARY KEY CHECK (length(id) = 64),
  name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  created INTEGER NOT NULL DEFAULT 0,
  config TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE endpoints (
  network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  container_id TEXT NOT NULL CHECK (length(container_id) > 0),
  ip4 TEXT,
  ip6 TEXT,
  data TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (network_id, container_id),
  UNIQUE (network_id, ip4),
  UNIQUE (network_id, ip6)
);
CREATE INDEX endpoints_container ON endpoints(container_id);
)sql";

constexpr Migration kMigrations[] = {
    {1, kV1Images},        {2, kV2Leases},  {3, kV3Containers},
    {4, kV4ContainerRows}, {5, kV5Volumes}, {6, kV6Networks},
};

Result<int> current_version(sql::Db& db) {
  auto s = BERTH_TRY(db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  BERTH_TRY(s.step());
  return static_cast<int>(s.int64(0));
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

Result<int> migrate(sql::Db& db, std::span<const Migration> list) {
  BERTH_TRY(
      db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              "version INTEGER PRIMARY KEY, applied_unix INTEGER NOT NULL)"));
  int latest = list.empty() ? 0 : list.back().version;
  int v = BERTH_TRY(current_version(db));
  if (v > latest) {
    return make_error(Errc::FailedPrecondition,
                      "metadata schema version {} is newer than this berth supports ({})", v,
                      latest);
  }
  for (const Migration& m : list) {
    if (m.version <= v) continue;
    auto tx = BERTH_TRY(sql::Tx::begin(db, sql::Tx::Mode::Write));
    // Re-read under the write lock: another process may have migrated since.
    v = BERTH_TRY(current_version(db));
    if (m.version <= v) continue;
    BERTH_TRY_CTX(db.exec(m.sql), fmt::format("schema migration {}", m.version));
    BERTH_TRY(db.run("INSERT INTO schema_migrations(version, applied_unix) VALUES (?1, ?2)",
                     m.version, static_cast<int64_t>(::time(nullptr))));
    BERTH_TRY(tx.commit());
    v = m.version;
  }
  return v;
}

}  // namespace berth::metadata
