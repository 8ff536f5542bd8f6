// image/service.h — what the engine can do with images (docker's image verbs).
//
// ImageService is the interface the engine and api/server program against;
// LocalImageService (image/local_service.h) implements it over the content
// store, the metadata store, a snapshotter and the registry client. Tests of
// the API layer use a fake.
//
// Names: every `name` argument accepts what docker accepts: a reference
// ("busybox", "busybox:1.36", "localhost:5000/a/b@sha256:..."), a full image
// id ("sha256:<hex>"), or an unambiguous id prefix ("3f57d9401f8d").
// Unknown names are Errc::NotFound with docker's message
// "No such image: <name>" (clients match it).
//
// Progress: pull/push/load/import report through ProgressFn the same items
// docker's JSON progress stream carries (status, id, progressDetail); the
// callback runs on service threads and must be cheap and thread-safe.
// Thread-safety: every method may be called concurrently. Concurrent pulls of
// one image share the downloads (each blob is fetched once).
// Depends on: base, oci, store/*, snapshot, registry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/file.h"
#include "base/json.h"
#include "base/result.h"
#include "oci/image_spec.h"
#include "registry/client.h"

namespace berth::image {

struct ProgressEvent {
  ProgressEvent() = default;
  ProgressEvent(std::string id_, std::string status_, int64_t current_ = -1, int64_t total_ = -1)
      : id(std::move(id_)), status(std::move(status_)), current(current_), total(total_) {}
  std::string id;        // short layer id (12 hex) or "" for image-wide lines
  std::string status;    // "Pulling fs layer", "Downloading", "Pull complete",
                         // "Digest: sha256:...", "Status: Downloaded newer image for x:y"
  int64_t current = -1;  // progressDetail.current (-1: none)
  int64_t total = -1;    // progressDetail.total
  // Docker's "aux" object (push ends with {"Tag","Digest","Size"}, which
  // docker-py reads); null for ordinary lines.
  Json aux;
};
using ProgressFn = std::function<void(const ProgressEvent&)>;

// Docker-style image event: action in {"pull","push","tag","untag","delete",
// "import","load","save","prune"}; id is the image id or the reference.
struct ImageEvent {
  std::string action;
  std::string id;
  std::map<std::string, std::string> attributes;  // "name" -> "busybox:latest", labels
};
using EventFn = std::function<void(const ImageEvent&)>;

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  // "linux/arm64/v8", "linux/amd64", "amd64" -> InvalidArgument when malformed
  static Result<Platform> parse(std::string_view s);
  std::string str() const;
};

struct PullRequest {
  std::string reference;  // "busybox", "busybox:1.36", "x@sha256:..."
  bool all_tags = false;  // docker pull -a
  std::optional<Platform> platform;
  registry::Credentials credentials;
  const std::atomic<bool>* cancel = nullptr;  // client went away
};

struct PullResult {
  Digest image_id;
  Digest manifest;
  std::string reference;  // familiar form, as docker prints it
  bool up_to_date = false;
};

struct PushRequest {
  std::string reference;  // tag to push ("localhost:5000/x:1"); no tag = all tags of the repo
  registry::Credentials credentials;
  const std::atomic<bool>* cancel = nullptr;
};

struct ListFilters {
  bool all = false;                     // -a (no effect without intermediate images)
  std::optional<bool> dangling;         // dangling=true|false
  std::vector<std::string> references;  // reference=busybox*, glob on familiar names
  std::vector<std::string> labels;      // "key" or "key=value"
  std::optional<std::string> before;    // image name: only images added before it
  std::optional<std::string> since;     // image name: only images added after it
};

// One row of `docker images` (GET /images/json).
struct ImageSummary {
  Digest id;
  std::vector<std::string> repo_tags;     // familiar "busybox:latest"
  std::vector<std::string> repo_digests;  // familiar "busybox@sha256:..."
  int64_t created = 0;                    // unix seconds
  int64_t size = 0;
  std::map<std::string, std::string> labels;
  int containers = -1;  // -1: not computed (docker's default)
};

// GET /images/{name}/json: the summary plus the parsed config blob.
struct ImageDetail {
  ImageSummary summary;
  Json config;  // the image config blob as stored (OCI/docker config JSON)
  std::vector<Digest> diff_ids;
  std::string os, architecture, variant;
  int64_t added_ns = 0;  // "Metadata.LastTagTime"
  Digest manifest;
  std::string manifest_media_type;
};

struct HistoryEntry {
  std::string id;  // "sha256:..." for the top entry, "<missing>" for others (docker)
  int64_t created = 0;
  std::string created_by;
  std::vector<std::string> tags;
  int64_t size = 0;
  std::string comment;
};

// One line of DELETE /images/{name}'s answer.
struct DeleteItem {
  std::string untagged;  // familiar reference, or ""
  std::string deleted;   // "sha256:...", or ""
};

struct PruneReport {
  std::vector<DeleteItem> deleted;
  int64_t space_reclaimed = 0;
};

struct DiskUsage {
  int64_t layers_size = 0;                     // bytes of all snapshots
  std::vector<ImageSummary> images;            // with containers counted
  std::map<std::string, int64_t> shared_size;  // image id -> bytes shared with others
};

struct ImportRequest {
  std::string repository;            // "" for an untagged image
  std::string tag;                   // "latest" by default
  std::vector<std::string> changes;  // Dockerfile instructions: CMD, ENV, ...
  std::string message;               // history comment
  std::optional<Platform> platform;
};

// GET /distribution/{name}/json: what the registry serves for a name,
// without pulling it.
struct DistributionInfo {
  oci::Descriptor descriptor;  // the manifest or index the name resolves to
  // An index's platforms, or for a single manifest the one its config names.
  std::vector<oci::ImagePlatform> platforms;
};

// A mount(2) that builds a container's rootfs: {"overlay","overlay",
// {"lowerdir=..","upperdir=..","workdir=.."}} or {"bind",<dir>,{"rbind","rw"}}.
struct RootfsMount {
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct CommitRequest {
  // "" = no container: the new image has the parent's layers only and an
  // empty-layer history entry (the builder's config-only steps).
  std::string container_id;
  // The container's image; invalid (empty) = none: the new image starts
  // from no layers and a blank config (the builder's FROM scratch).
  Digest parent;
  Json config;                       // image config "config" object for the new image
  std::vector<std::string> changes;  // Dockerfile instructions applied on top (commit -c)
  std::string comment;
  std::string author;
  std::string repository;  // "" = untagged
  std::string tag;         // "latest" when repository is set and tag empty
  // The history entry's created_by; "" = the config's Cmd joined (commit).
  std::string created_by;
  // No history entry at all (the blank base the builder makes for scratch).
  bool no_history = false;
  // With no parent and no container: a fixed creation time, so the same
  // blank image (same id) comes out every time.
  bool blank = false;
};

// Bytes of an upload (load/import body): next chunk, "" at end.
using ByteSource = std::function<Result<std::string>()>;
using ByteSink = std::function<Result<void>(std::string_view)>;

class ImageService {
 public:
  virtual ~ImageService() = default;

  virtual void set_event_sink(EventFn fn) = 0;

  virtual Result<PullResult> pull(const PullRequest& req, const ProgressFn& progress) = 0;
  virtual Result<void> push(const PushRequest& req, const ProgressFn& progress) = 0;

  virtual Result<std::vector<ImageSummary>> list(const ListFilters& f) = 0;
  virtual Result<ImageDetail> inspect(const std::string& name) = 0;
  virtual Result<std::vector<HistoryEntry>> history(const std::string& name) = 0;
  // docker tag SOURCE REPO[:TAG]. InvalidArgument for a bad repo/tag.
  virtual Result<void> tag(const std::string& source, const std::string& repo,
                           const std::string& tag) = 0;
  // docker rmi. Conflict (409) when a container uses it ("conflict: unable to
  // remove repository reference \"x\" (must force) - container <id> is using
  // its referenced image <id>") or when an id is named and it has several
  // tags without force ("conflict: unable to delete <id> (must be forced) -
  // image is referenced in multiple repositories").
  virtual Result<std::vector<DeleteItem>> remove(const std::string& name, bool force,
                                                 bool noprune) = 0;
  // docker image prune: dangling only unless all; filters until/label.
  virtual Result<PruneReport> prune(bool all, const std::vector<std::string>& label_filters,
                                    std::optional<int64_t> until_unix) = 0;

  // docker save: docker-archive tar (manifest.json, repositories, <id>.json,
  // <layer>/layer.tar; also an OCI index.json + blobs/ as docker 25 does) of
  // the named images to sink.
  virtual Result<void> save(const std::vector<std::string>& names, const ByteSink& sink) = 0;
  // docker load: accepts docker-archive and OCI layout tarballs (plain, gzip,
  // zstd). Progress lines "Loaded image: x:y" / "Loaded image ID: sha256:..".
  virtual Result<std::vector<std::string>> load(const ByteSource& src,
                                                const ProgressFn& progress) = 0;
  // docker import: a rootfs tarball becomes a one-layer image.
  virtual Result<Digest> import(const ImportRequest& req, const ByteSource& src,
                                const ProgressFn& progress) = 0;

  virtual Result<std::vector<registry::SearchResult>> search(const std::string& term, int limit,
                                                             const registry::Credentials& cred) = 0;
  // docker's distribution inspect: the manifest's descriptor and platforms
  // (a single manifest's config blob is fetched for them). A tagless name
  // means :latest. Registry errors as pull reports them.
  virtual Result<DistributionInfo> distribution_inspect(const std::string& name,
                                                        const registry::Credentials& cred) = 0;
  // Tags of a repository (berth extension: `berth search --tags REPO`).
  virtual Result<std::vector<std::string>> list_tags(const std::string& repository,
                                                     const registry::Credentials& cred) = 0;
  // POST /auth: checks credentials against the registry ("" = docker.io).
  // Returns docker's status text "Login Succeeded" and an identity token if any.
  virtual Result<std::string> login(const std::string& server_address,
                                    const registry::Credentials& cred) = 0;

  virtual Result<DiskUsage> disk_usage() = 0;
  // Mark-and-sweep GC of unreferenced blobs, snapshots and stale ingests.
  // Returns bytes freed.
  virtual Result<int64_t> gc() = 0;

  // daemon.json reload (mirrors, insecure registries, concurrency).
  virtual void set_registry_options(const registry::Options& o, int max_downloads,
                                    int max_uploads) = 0;
  virtual std::string storage_driver() const = 0;  // "overlayfs" | "copy"

  // ---- container support (issue 4) ----------------------------------------
  // Each container has one writable snapshot on top of its image's chain,
  // keyed by the container id. GC never removes it; only
  // remove_container_rootfs does. Defaults answer NotImplemented (fakes).

  // Creates the container's writable layer and returns the mounts that make
  // its rootfs (the monitor performs them on <bundle>/rootfs). AlreadyExists
  // when the container already has one; NotFound for an unknown image id.
  // ProcessCrashSafe: nothing fsynced; the layer survives a daemon crash,
  // and a power loss may take it: the caller's own durable record comes
  // after (the engine's container row) and repair_container_rootfs makes
  // the layer again. (The lease is committed to the metadata database's
  // WAL, so a later durable commit to that database makes it durable too.)
  virtual Result<std::vector<RootfsMount>> prepare_container_rootfs(
      const std::string& container_id, const Digest& image, Durability d = Durability::Durable) {
    (void)container_id, (void)image, (void)d;
    return Error{Errc::NotImplemented, 0, "container rootfs not supported"};
  }
  // When the container's writable layer is missing (a power loss took one
  // prepared ProcessCrashSafe), makes it again, empty, with its lease,
  // durably, and returns true; false when it is there. NotFound when it is
  // missing and the image is gone too.
  virtual Result<bool> repair_container_rootfs(const std::string& container_id,
                                               const Digest& image) {
    (void)container_id, (void)image;
    return Error{Errc::NotImplemented, 0, "container rootfs not supported"};
  }
  // Deletes the writable layer (must be unmounted). No-op when absent.
  virtual Result<void> remove_container_rootfs(const std::string& container_id) {
    (void)container_id;
    return Error{Errc::NotImplemented, 0, "container rootfs not supported"};
  }
  // Container ids that have a writable layer on disk (to remove orphans).
  virtual Result<std::vector<std::string>> list_container_rootfs() {
    return Error{Errc::NotImplemented, 0, "container rootfs not supported"};
  }
  // The directory holding the container's own changes (overlay upperdir),
  // for `docker diff` and commit. NotImplemented on the copy snapshotter.
  virtual Result<std::string> container_changes_dir(const std::string& container_id) {
    (void)container_id;
    return Error{Errc::NotImplemented, 0, "container rootfs not supported"};
  }
  // docker commit: a new image = the container image's layers + one layer
  // made from the container's changes (overlay whiteouts turned into OCI
  // .wh. entries), config = `config` (the image config blob's "config"
  // object, already merged by the engine), history entry with comment and
  // author; tagged repository:tag when repository is set. Returns the id.
  virtual Result<Digest> commit_container(const CommitRequest& req) {
    (void)req;
    return Error{Errc::NotImplemented, 0, "commit not supported"};
  }
  // The builder's cache: an image whose config names `parent` as its parent,
  // whose last history entry's created_by is `created_by` and whose
  // "config" object equals `config` (nullopt when none; the newest when
  // several).
  virtual Result<std::optional<Digest>> find_build_cache(const Digest& parent,
                                                         const std::string& created_by,
                                                         const Json& config) {
    (void)parent, (void)created_by, (void)config;
    return Error{Errc::NotImplemented, 0, "build cache not supported"};
  }
  // docker build --cache-from: `source` stands in for the build's own cache
  // when its history continues `parent`'s (the same entries, the same layers
  // below them) with an entry whose created_by is `created_by`. Returns
  // `source` itself when that entry is its last; otherwise a new image with
  // `parent`'s layers and history plus that entry (and its layer, shared
  // with `source`), `config` as its "config" and `parent` as its parent.
  // nullopt when `source` does not continue `parent` that way.
  virtual Result<std::optional<Digest>> restore_build_cache(const Digest& parent,
                                                            const Digest& source,
                                                            const std::string& created_by,
                                                            const Json& config) {
    (void)parent, (void)source, (void)created_by, (void)config;
    return Error{Errc::NotImplemented, 0, "build cache not supported"};
  }
};

}  // namespace berth::image
