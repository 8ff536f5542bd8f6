// store/metadata/store_impl.h — the SQLite MetadataStore (internal). Its
// methods are spread over images.cc, layers.cc and leases.cc by concept;
// every public method takes mu_ for its whole duration.
#pragma once

#include <mutex>

#include "store/metadata/metadata.h"
#include "store/metadata/sqlite.h"

namespace berth::metadata {

// Every layer row (for gc_roots); the caller holds the lock and a transaction.
Result<std::vector<LayerRecord>> all_layers(sql::Db& db);

class SqliteMetadataStore final : public MetadataStore {
 public:
  SqliteMetadataStore(sql::Db db, int version) : db_(std::move(db)), version_(version) {}

  int schema_version() const override { return version_; }
  Result<std::pair<int64_t, int64_t>> change_stamp() const override;

  Result<std::vector<TagChange>> commit_image(const ImageCommit& c) override;
  Result<ImageRecord> get_image(const Digest& id) const override;
  Result<Digest> resolve_image_prefix(std::string_view hex_prefix) const override;
  Result<std::vector<ImageRecord>> list_images() const override;
  Result<std::vector<std::string>> tags_of(const Digest& id) const override;
  Result<std::vector<RepoDigest>> repo_digests_of(const Digest& id) const override;
  Result<std::vector<Digest>> blobs_of(const Digest& id) const override;
  Result<std::map<Digest, std::vector<std::string>>> all_tags() const override;
  Result<std::map<Digest, std::vector<RepoDigest>>> all_repo_digests() const override;
  Result<void> delete_image(const Digest& id) override;

  Result<std::optional<Digest>> lookup_tag(const std::string& tag) const override;
  Result<TagChange> set_tag(const std::string& tag, const Digest& image) override;
  Result<void> delete_tag(const std::string& tag) override;
  Result<std::optional<Digest>> lookup_repo_digest(const std::string& repository,
                                                   const Digest& manifest) const override;
  Result<void> delete_repo_digests(const Digest& image, const std::string& repository) override;

  Result<void> put_layer(const LayerRecord& l) override;
  Result<std::optional<LayerRecord>> get_layer(const Digest& chain_id) const override;
  Result<void> delete_layer(const Digest& chain_id) override;
  Result<void> put_blob_layer(const BlobLayer& b) override;
  Result<std::optional<BlobLayer>> blob_layer(const Digest& blob) const override;
  Result<std::vector<BlobLayer>> blobs_for_diff(const Digest& diff_id) const override;

  Result<Lease> create_lease(const std::string& id, int64_t expires_unix) override;
  Result<Lease> create_lease_with(const std::string& id, int64_t expires_unix, LeaseKind kind,
                                  const std::string& key,
                                  Durability d = Durability::Durable) override;
  Result<void> add_lease_resource(const std::string& lease, LeaseKind kind,
                                  const std::string& key) override;
  Result<void> release_lease(const std::string& id) override;
  Result<std::vector<Lease>> list_leases() const override;
  Result<GcRoots> gc_roots(int64_t now_unix) override;

  Result<std::vector<std::string>> containers_using(const Digest& image) const override;
  Result<void> put_container(const ContainerRow& row, Durability d = Durability::Durable) override;
  Result<void> update_container_state(const std::string& id, const std::string& state) override;
  Result<void> rename_container(const std::string& id, const std::string& new_name) override;
  Result<void> delete_container(const std::string& id) override;
  Result<std::vector<ContainerRow>> list_containers() const override;
  Result<void> put_network(const NetworkRow& row) override;
  Result<void> delete_network(const std::string& id) override;
  Result<std::vector<NetworkRow>> list_networks() const override;
  Result<void> put_endpoint(const EndpointRow& row) override;
  Result<void> delete_endpoint(const std::string& network_id,
                               const std::string& container_id) override;
  Result<std::vector<EndpointRow>> list_endpoints() const override;
  Result<int64_t> delete_endpoints_of(const std::string& container_id) override;

  Result<void> insert_volume(const VolumeRow& row) override;
  Result<std::optional<VolumeRow>> get_volume(const std::string& name) const override;
  Result<std::vector<VolumeRow>> list_volumes() const override;
  Result<void> delete_volume(const std::string& name) override;

 private:
  // Helpers that expect mu_ held (and, for writers, a transaction open).
  Result<std::optional<Digest>> tag_target(const std::string& tag) const;
  Result<bool> image_exists(const Digest& id) const;
  Result<std::vector<Digest>> chain_of(const Digest& id) const;

  mutable std::mutex mu_;
  mutable sql::Db db_;
  int version_ = 0;
};

}  // namespace berth::metadata
