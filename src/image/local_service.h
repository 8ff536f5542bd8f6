// image/local_service.h — the ImageService over berth's own stores.
//
// Owns, under data_root: content/ (ContentStore), snapshots/ (Snapshotter),
// and uses the shared MetadataStore (metadata.db, owned by the caller because
// containers/volumes live in it too).
// Pull: resolve tag -> manifest (index -> platform choice; schema1 refused:
// "schema1 manifests are not supported: <ref>"), take a lease
// ("pull:<manifest digest>", 1 h, re-used by a retried pull), fetch the config,
// then download up to max_downloads layer blobs at once into resumable
// ingests (a retry resumes with Range), unpack each as soon as it is verified
// (overlay: in parallel; copy: in order), check each diff_id against the
// config, then commit the image, its tags and repo digest and release the
// lease in one metadata transaction. Nothing is listed until that commit.
// Startup: open() removes tmp/ leftovers of snapshots; gc() removes blobs,
// layers and ingests no image or live lease holds.
// Containers: a container's writable snapshot is "rw-<container id>" and a
// never-expiring lease "container:<id>" holds its image's top layer (so `rmi
// -f` + gc never sweep the chain under it); gc() never removes rw-*
// snapshots and drops container leases whose snapshot is gone. Commit stores
// the changes as a plain tar blob (digest = diff id), like import.
// Depends on: base, oci, store/*, snapshot, registry.
#pragma once

#include <memory>
#include <string>

#include "image/service.h"
#include "store/metadata/metadata.h"

namespace berth::image {

struct LocalOptions {
  std::string data_root;       // content/ and snapshots/ are created here
  std::string storage_driver;  // "" auto | "overlayfs" | "copy"
  registry::Options registry;
  int max_concurrent_downloads = 3;
  int max_concurrent_uploads = 5;
  // The registry client to use; null = registry::Client::create(registry).
  // Tests pass a fake.
  std::shared_ptr<registry::Client> registry_client;
};

Result<std::unique_ptr<ImageService>> open_local_image_service(
    const LocalOptions& opts, std::shared_ptr<metadata::MetadataStore> meta);

}  // namespace berth::image
