// store/metadata/metadata.h — berth's SQLite metadata (images, tags, layers,
// leases, containers (v4), volumes (v5); networks are added by a later migration).
//
// One database file (<data-root>/metadata.db), WAL mode, synchronous=FULL,
// foreign keys on, busy timeout 5 s. The schema is created and upgraded by
// numbered migrations (table schema_migrations), each in its own transaction,
// so a daemon killed mid-upgrade restarts from the last complete step.
// Every public mutating method is exactly one transaction: after a crash
// either all of its rows exist or none do.
// The store knows references, not files: it never touches content blobs or
// snapshot directories. GC is split accordingly: gc_roots() computes the live
// set in one read transaction; image/ sweeps the files.
// Thread-safety: all methods may be called from any thread (one connection
// guarded by a mutex; SQLite serializes writers anyway).
// Depends on: base, sqlite3.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/file.h"
#include "base/result.h"

namespace berth::metadata {

// A local image. id is the digest of its config blob (docker's image id).
struct ImageRecord {
  Digest id;
  Digest manifest;  // digest of the manifest stored in content/
  std::string manifest_media_type;
  int64_t created = 0;   // config "created", unix seconds (0 when absent)
  int64_t added_ns = 0;  // when this host stored it, unix ns (list order, since/before)
  int64_t size = 0;      // sum of unpacked layer sizes, bytes
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::vector<Digest> chain_ids;              // layer snapshots, bottom first
  std::map<std::string, std::string> labels;  // config.Labels (for filters)
};

// A layer unpacked into a snapshot. chain_id per the OCI image spec:
// chain(0) = diff_id(0); chain(n) = sha256(chain(n-1) + " " + diff_id(n)).
struct LayerRecord {
  Digest chain_id;
  std::optional<Digest> parent;  // chain id of the layer below
  Digest diff_id;                // digest of the uncompressed tar
  std::string snapshot_key;      // directory name under snapshots/ (snapshot/ picks it)
  int64_t size = 0;              // unpacked bytes
};

// A compressed (or plain) blob known to unpack to diff_id: lets a pull say
// "Already exists" without downloading, and a push find the blob for a layer.
struct BlobLayer {
  Digest blob;
  Digest diff_id;
  std::string media_type;
  int64_t size = 0;
};

// Where an image came from: docker's RepoDigests ("repo@sha256:manifest").
struct RepoDigest {
  std::string repository;  // "docker.io/library/busybox"
  Digest manifest;
};

// Resources a lease keeps alive.
enum class LeaseKind { Blob, Layer };

struct Lease {
  std::string id;
  int64_t expires_unix = 0;
};

struct GcRoots {
  std::set<Digest> blobs;               // every blob an image or an unexpired lease references
  std::set<Digest> layers;              // every chain id an image or an unexpired lease references
  std::vector<LayerRecord> all_layers;  // to find unreferenced snapshots
  int expired_leases_removed = 0;
};

// Everything a finished pull/load/import writes, in one transaction.
struct ImageCommit {
  ImageRecord image;
  std::vector<Digest> blobs;      // manifest (+ index), config, layer blobs
  std::vector<std::string> tags;  // fully qualified "docker.io/library/x:tag"
  std::optional<RepoDigest> repo_digest;
  std::optional<std::string> release_lease;  // deleted in the same transaction
};

struct TagChange {
  std::string tag;
  std::optional<Digest> previous;  // image the tag pointed to before, if any
};

// A container as the engine stores it.
struct ContainerRow {
  std::string id;    // 64 hex
  std::string name;  // without the leading "/"
  Digest image;
  int64_t created_ns = 0;
  std::string config;  // engine-owned JSON text (create request, after defaults)
  std::string state;   // engine-owned JSON text (status, pid, exit code, times, ...)
};

// A network (migration v6). config is engine-owned JSON text.
struct NetworkRow {
  std::string id;  // 64 hex
  std::string name;
  int64_t created_ns = 0;
  std::string config;
};

// An address of a container on a network. ip4/ip6 "" = none (NULL in SQL,
// so several address-less endpoints may coexist).
struct EndpointRow {
  std::string network_id;
  std::string container_id;
  std::string ip4, ip6;  // bare addresses
  std::string data;      // engine-owned JSON text (MAC, aliases, endpoint id, ...)
};

// A named volume's record (migration v5). labels/options are JSON object
// text owned by the caller (the volume module); the store only keeps them.
struct VolumeRow {
  std::string name;
  std::string driver = "local";
  std::string labels = "{}";
  std::string options = "{}";
  int64_t created_ns = 0;
  bool anonymous = false;
};

class MetadataStore {
 public:
  static Result<std::unique_ptr<MetadataStore>> open(const std::string& db_path);
  virtual ~MetadataStore() = default;

  virtual int schema_version() const = 0;
  // A value that differs after any change committed to the database file,
  // by this store or any other connection (SQLite's data_version plus this
  // connection's change count): the key for caches of query results. Read
  // it before the queries whose results it keys. It may also change when
  // nothing a cache holds did.
  virtual Result<std::pair<int64_t, int64_t>> change_stamp() const = 0;

  // Images. commit_image inserts or updates the image row, adds blob
  // references, moves each tag to it, records the repo digest and releases
  // the lease. Returns the tags that moved (their previous image may now be
  // dangling): one entry per tag of c.tags that is new (previous empty) or
  // pointed at another image; tags already on this image are not listed.
  // Re-committing an existing image updates its row but keeps added_ns;
  // added_ns 0 means "now". Layers need not exist yet (no foreign key).
  virtual Result<std::vector<TagChange>> commit_image(const ImageCommit& c) = 0;
  virtual Result<ImageRecord> get_image(const Digest& id) const = 0;  // NotFound
  // Resolves a full or unambiguous prefix of the id hex (>= 1 char; docker
  // accepts short ids; a leading "sha256:" is allowed). NotFound when none
  // (or not lowercase hex), Conflict when ambiguous ("multiple IDs found
  // with provided prefix: P").
  virtual Result<Digest> resolve_image_prefix(std::string_view hex_prefix) const = 0;
  virtual Result<std::vector<ImageRecord>> list_images() const = 0;
  virtual Result<std::vector<std::string>> tags_of(const Digest& id) const = 0;
  virtual Result<std::vector<RepoDigest>> repo_digests_of(const Digest& id) const = 0;
  virtual Result<std::vector<Digest>> blobs_of(const Digest& id) const = 0;
  // Every image's tags (sorted) and repo digests (by repository, manifest),
  // one query each: the image list needs them for all images at once.
  // Images without any are absent from the map.
  virtual Result<std::map<Digest, std::vector<std::string>>> all_tags() const = 0;
  virtual Result<std::map<Digest, std::vector<RepoDigest>>> all_repo_digests() const = 0;
  // Deletes the image row with its tags, repo digests and blob references.
  // NotFound when absent.
  virtual Result<void> delete_image(const Digest& id) = 0;

  // Tags ("docker.io/library/x:latest" -> image id).
  virtual Result<std::optional<Digest>> lookup_tag(const std::string& tag) const = 0;
  virtual Result<TagChange> set_tag(const std::string& tag, const Digest& image) = 0;
  virtual Result<void> delete_tag(const std::string& tag) = 0;  // NotFound
  // Repo digest lookup: "docker.io/library/x" + manifest digest -> image.
  virtual Result<std::optional<Digest>> lookup_repo_digest(const std::string& repository,
                                                           const Digest& manifest) const = 0;
  virtual Result<void> delete_repo_digests(const Digest& image, const std::string& repository) = 0;

  // Layers (committed snapshots).
  virtual Result<void> put_layer(const LayerRecord& l) = 0;  // idempotent on chain_id
  virtual Result<std::optional<LayerRecord>> get_layer(const Digest& chain_id) const = 0;
  // No-op when absent; Conflict ("layer X is used by image Y") while an
  // image's chain names it.
  virtual Result<void> delete_layer(const Digest& chain_id) = 0;
  virtual Result<void> put_blob_layer(const BlobLayer& b) = 0;
  virtual Result<std::optional<BlobLayer>> blob_layer(const Digest& blob) const = 0;
  // Blobs that unpack to diff_id (push/save choose one that still exists).
  virtual Result<std::vector<BlobLayer>> blobs_for_diff(const Digest& diff_id) const = 0;

  // Leases: protect what a running pull has written from GC. A lease lives
  // until released or until expires_unix passes (a pull killed with the
  // daemon leaves its lease; a retried pull may re-use it by id).
  // create_lease with an existing id sets the new expiry and keeps the
  // resources; an empty id gets a random one. A lease is expired once
  // now_unix > expires_unix. add_lease_resource: NotFound for an unknown
  // lease; keys are digest strings (chain ids for Layer).
  virtual Result<Lease> create_lease(const std::string& id, int64_t expires_unix) = 0;
  virtual Result<void> add_lease_resource(const std::string& lease, LeaseKind kind,
                                          const std::string& key) = 0;
  // create_lease + add_lease_resource in one transaction (one fsync;
  // none with ProcessCrashSafe, for a lease that cannot outlive a reboot).
  virtual Result<Lease> create_lease_with(const std::string& id, int64_t expires_unix,
                                          LeaseKind kind, const std::string& key,
                                          Durability d = Durability::Durable) = 0;
  virtual Result<void> release_lease(const std::string& id) = 0;  // no-op when absent
  virtual Result<std::vector<Lease>> list_leases() const = 0;

  // Deletes expired leases, then reports the live set (one transaction).
  virtual Result<GcRoots> gc_roots(int64_t now_unix) = 0;

  // Containers. Which image each uses, so `rmi` can answer 409.
  virtual Result<std::vector<std::string>> containers_using(const Digest& image) const = 0;
  // The engine's container rows (migration v4 extends the v3 table). Names
  // are unique (a UNIQUE index): put_container / rename_container return
  // Conflict "name in use" when another row holds the name, and the engine
  // turns that into docker's message. config and state are engine-owned
  // opaque text (its own JSON). put_container inserts or replaces by id.
  // NotFound for unknown ids in update/rename/delete. update_container_state
  // is not fsynced (survives a crash of the daemon, not a power loss); every
  // other change is.
  // ProcessCrashSafe: committed without fsync (a --rm container's row; a
  // power loss that undoes it leaves directories that restore removes as
  // orphans).
  virtual Result<void> put_container(const ContainerRow& row,
                                     Durability d = Durability::Durable) = 0;
  virtual Result<void> update_container_state(const std::string& id, const std::string& state) = 0;
  virtual Result<void> rename_container(const std::string& id, const std::string& new_name) = 0;
  virtual Result<void> delete_container(const std::string& id) = 0;
  // By created, id.
  virtual Result<std::vector<ContainerRow>> list_containers() const = 0;

  // Networks and endpoints (migration v6), each change one fsynced
  // transaction. put_network inserts: Conflict "network with name X already
  // exists" when the name is taken, AlreadyExists for the id.
  // delete_network removes its endpoints too (NotFound when unknown).
  // put_endpoint inserts or replaces (network, container): Conflict
  // "address X is already in use" when another container holds the
  // address on that network. delete_endpoint: Ok when absent. Endpoint
  // writes are not fsynced (they survive a crash of the daemon, not a power
  // loss, like update_container_state); network writes are.
  virtual Result<void> put_network(const NetworkRow& row) = 0;
  virtual Result<void> delete_network(const std::string& id) = 0;
  virtual Result<std::vector<NetworkRow>> list_networks() const = 0;  // by created, id
  virtual Result<void> put_endpoint(const EndpointRow& row) = 0;
  virtual Result<void> delete_endpoint(const std::string& network_id,
                                       const std::string& container_id) = 0;
  virtual Result<std::vector<EndpointRow>> list_endpoints() const = 0;
  // Every endpoint of a container, on any network; returns how many went.
  virtual Result<int64_t> delete_endpoints_of(const std::string& container_id) = 0;
  // Volumes (migration v5), one transaction each. insert_volume:
  // AlreadyExists when the name is taken (the row is left as it was).
  // delete_volume: NotFound when absent. list_volumes orders by name.
  virtual Result<void> insert_volume(const VolumeRow& row) = 0;
  virtual Result<std::optional<VolumeRow>> get_volume(const std::string& name) const = 0;
  virtual Result<std::vector<VolumeRow>> list_volumes() const = 0;
  virtual Result<void> delete_volume(const std::string& name) = 0;
};

}  // namespace berth::metadata
