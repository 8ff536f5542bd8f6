// image/internal.h — LocalImageService's private declarations, shared by the
// files that implement its verbs (pull*.cc, push.cc, archive_*.cc, ...).
// Not part of the module's contract.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "image/local_service.h"
#include "oci/image_spec.h"
#include "oci/reference.h"
#include "snapshot/snapshotter.h"
#include "store/content/content_store.h"

namespace berth::image {

// An image config is small; pull and distribution inspect refuse one a
// manifest declares larger than this before fetching it.
inline constexpr int64_t kMaxConfigSize = 16 << 20;

// One in-flight computation shared by every caller asking for the same key
// (concurrent pulls of one blob download it once).
template <typename Key, typename T>
class SingleFlight {
 public:
  template <typename F>
  Result<T> run(const Key& k, F&& fn) {
    std::shared_ptr<Slot> slot;
    bool leader = false;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(k);
      if (it == slots_.end()) {
        slot = std::make_shared<Slot>();
        slots_.emplace(k, slot);
        leader = true;
      } else {
        slot = it->second;
      }
    }
    if (leader) {
      Result<T> r = fn();
      std::lock_guard lock(mu_);
      slot->result = std::make_unique<Result<T>>(r);
      slots_.erase(k);
      cv_.notify_all();
      return r;
    }
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return slot->result != nullptr; });
    return *slot->result;
  }

 private:
  struct Slot {
    std::unique_ptr<Result<T>> result;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, std::shared_ptr<Slot>> slots_;
};

// A bounded set of worker threads running queued jobs; destructor joins.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  void submit(std::function<void()> job);
  void wait_idle();

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::vector<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int busy_ = 0;
  bool stop_ = false;
};

struct ResolvedName {
  Digest id;
  std::optional<oci::Reference> ref;  // set when the name was a reference
};

// Layer blob bytes as a ByteSource over an open fd (1 MiB chunks); `read`
// counts bytes into *counter when given.
snapshot::ByteSource fd_source(std::shared_ptr<Fd> fd, std::atomic<int64_t>* counter = nullptr);

// Dockerfile instructions of `docker import --change` applied to a config.
Result<void> apply_changes(const std::vector<std::string>& changes, oci::ContainerConfig& c);

// fnmatch-style glob of docker's reference filter on a familiar reference.
bool reference_filter_matches(const std::string& pattern, const oci::Reference& ref);

// Whether a snapshot key is a container's writable layer ("rw-<id>"): GC
// never removes those.
bool is_container_snapshot_key(const std::string& key);

int64_t now_unix();
int64_t now_ns();

// init_layer.cc: what an image's init layer holds (see there).
struct InitEntry {
  std::string path;  // relative, e.g. "etc/hosts"
  bool dir = false;
  // A directory the image has (etc, when only files are added in it): the
  // init layer's copy must look like the image's, since in the merged view
  // the top-most layer's directory gives /etc its mode, owner and mtime.
  bool copy_of_image_dir = false;
  unsigned perm = 0755;
  int64_t uid = 0, gid = 0, mtime = 0;
};
// The init entries none of `layer_dirs` (top first) has; etc/* only when etc
// is (or becomes) a directory.
std::vector<InitEntry> missing_init_entries(const std::vector<std::string>& layer_dirs);
// The chain id of the init layer on top of `top_chain`.
Digest init_chain_id(const Digest& top_chain);

class LocalImageService final : public ImageService {
 public:
  LocalImageService(LocalOptions opts, std::shared_ptr<metadata::MetadataStore> meta,
                    std::unique_ptr<content::ContentStore> content,
                    std::unique_ptr<snapshot::Snapshotter> snap,
                    std::shared_ptr<registry::Client> reg);

  void set_event_sink(EventFn fn) override;
  Result<PullResult> pull(const PullRequest& req, const ProgressFn& progress) override;
  Result<void> push(const PushRequest& req, const ProgressFn& progress) override;
  Result<std::vector<ImageSummary>> list(const ListFilters& f) override;
  Result<ImageDetail> inspect(const std::string& name) override;
  Result<std::vector<HistoryEntry>> history(const std::string& name) override;
  Result<void> tag(const std::string& source, const std::string& repo,
                   const std::string& tag) override;
  Result<std::vector<DeleteItem>> remove(const std::string& name, bool force,
                                         bool noprune) override;
  Result<PruneReport> prune(bool all, const std::vector<std::string>& label_filters,
                            std::optional<int64_t> until_unix) override;
  Result<void> save(const std::vector<std::string>& names, const ByteSink& sink) override;
  Result<std::vector<std::string>> load(const ByteSource& src, const ProgressFn& progress) override;
  Result<Digest> import(const ImportRequest& req, const ByteSource& src,
                        const ProgressFn& progress) override;
  Result<std::vector<registry::SearchResult>> search(const std::string& term, int limit,
                                                     const registry::Credentials& cred) override;
  Result<std::vector<std::string>> list_tags(const std::string& repository,
                                             const registry::Credentials& cred) override;
  Result<DistributionInfo> distribution_inspect(const std::string& name,
                                                const registry::Credentials& cred) override;
  Result<std::string> login(const std::string& server_address,
                            const registry::Credentials& cred) override;
  Result<DiskUsage> disk_usage() override;
  Result<int64_t> gc() override;
  void set_registry_options(const registry::Options& o, int max_downloads,
                            int max_uploads) override;
  std::string storage_driver() const override;
  Result<std::vector<RootfsMount>> prepare_container_rootfs(
      const std::string& container_id, const Digest& image,
      Durability d = Durability::Durable) override;
  Result<void> remove_container_rootfs(const std::string& container_id) override;
  Result<bool> repair_container_rootfs(const std::string& container_id,
                                       const Digest& image) override;
  Result<std::vector<std::string>> list_container_rootfs() override;
  Result<std::string> container_changes_dir(const std::string& container_id) override;
  Result<Digest> commit_container(const CommitRequest& req) override;
  Result<std::optional<Digest>> find_build_cache(const Digest& parent,
                                                 const std::string& created_by,
                                                 const Json& config) override;
  Result<std::optional<Digest>> restore_build_cache(const Digest& parent, const Digest& source,
                                                    const std::string& created_by,
                                                    const Json& config) override;

  // --- shared by the implementation files ---
  void emit(const std::string& action, const std::string& id, const std::string& name);
  // NotFound "No such image: <name>" when it names nothing.
  Result<ResolvedName> resolve(const std::string& name) const;
  Result<ImageSummary> summary_of(const metadata::ImageRecord& rec) const;
  static ImageSummary summary_from(const metadata::ImageRecord& rec,
                                   const std::vector<std::string>& tags,
                                   const std::vector<metadata::RepoDigest>& digests);
  // Whether every chain id of `chain` has a layer row whose snapshot exists.
  Result<bool> layer_present(const Digest& chain_id);
  // Unpacks the blob (already committed) on top of parent chain; verifies the
  // diff id; records LayerRecord + BlobLayer. Deduped per chain id.
  // on_bytes gets the compressed bytes read so far (may be null).
  Result<metadata::LayerRecord> unpack_blob(const Digest& blob, const std::string& media_type,
                                            const Digest& expected_diff,
                                            const std::optional<Digest>& parent_chain,
                                            const std::function<void(int64_t)>& on_bytes);
  // Records a layer apply_layer just committed (row keyed by `chain`); on a
  // failure removes its snapshot, so nothing is left half-recorded.
  Result<metadata::LayerRecord> record_layer(const Digest& chain,
                                             const std::optional<Digest>& parent,
                                             const snapshot::ApplyResult& res);
  // Commits an image whose blobs and layers are all in place (load/import).
  Result<metadata::ImageRecord> make_record(const Digest& manifest, const std::string& manifest_mt,
                                            const Digest& config_digest,
                                            const oci::ImageConfig& cfg);
  Result<int64_t> gc_locked();
  // The init layer of the image's chain (made on first use), or nullopt when
  // the image has every entry already or the snapshotter is not overlay.
  // gc_mu_ held shared.
  Result<std::optional<metadata::LayerRecord>> init_layer_of(
      const metadata::ImageRecord& rec, const std::vector<std::string>& keys_bottom_first);
  // Releases container leases whose rw snapshot is gone (a crash between
  // remove_container_rootfs's two steps, or a failed prepare). gc_mu_ held
  // exclusively.
  Result<void> drop_orphan_container_leases();
  // Pull pieces (pull.cc, pull_layers.cc).
  // An image config blob from the registry, whole: refused above
  // kMaxConfigSize, when it brings more or fewer bytes than `config.size`,
  // or when its digest differs. Not stored.
  Result<std::string> fetch_config(const oci::Reference& ref, const oci::Descriptor& config,
                                   const registry::Credentials& cred,
                                   const std::atomic<bool>* cancel);
  Result<PullResult> pull_one(const oci::Reference& ref, const PullRequest& req,
                              const ProgressFn& progress);
  Result<std::vector<metadata::LayerRecord>> pull_layers(const oci::Reference& ref,
                                                         const PullRequest& req,
                                                         const oci::ImageManifest& m,
                                                         const oci::ImageConfig& cfg,
                                                         const ProgressFn& progress);
  Result<content::BlobInfo> download_blob(const oci::Reference& ref, const PullRequest& req,
                                          const oci::Descriptor& d, const std::atomic<bool>* cancel,
                                          const std::function<void(int64_t, int64_t)>& prog);
  std::string tmp_dir() const { return opts_.data_root + "/tmp"; }
  int max_downloads() const;
  int max_uploads() const;

  LocalOptions opts_;
  std::shared_ptr<metadata::MetadataStore> meta_;
  std::unique_ptr<content::ContentStore> content_;
  std::unique_ptr<snapshot::Snapshotter> snap_;
  std::shared_ptr<registry::Client> reg_;

  mutable std::mutex mu_;  // events_, limits
  EventFn events_;
  // Writers of new blobs/layers hold it shared; gc() holds it exclusively so
  // it never sweeps a snapshot whose layer row is not yet written.
  std::shared_mutex gc_mu_;
  SingleFlight<Digest, content::BlobInfo> blob_flight_;
  SingleFlight<Digest, metadata::LayerRecord> layer_flight_;
  std::mutex init_mu_;
  std::set<Digest> no_init_needed_;  // top chain ids whose images need no init layer
  std::mutex snap_order_mu_;

  // Every image with its tags and summary, newest first, as of `stamp`
  // (MetadataStore::change_stamp). Kept between lists, as dockerd keeps its
  // image store in memory: a list only re-reads the database after a
  // change, and then builds a new index (readers keep the old one).
  struct ImageIndex {
    struct Entry {
      metadata::ImageRecord rec;
      ImageSummary summary;
    };
    std::pair<int64_t, int64_t> stamp;
    std::vector<Entry> entries;
    std::map<Digest, std::vector<std::string>> tags;  // full names, for reference filters
    // Images another image names as its parent (config "parent": commit
    // and build make them). Untagged ones are docker's intermediate images:
    // hidden from lists without `all`, not dangling.
    std::set<Digest> parents;
    // Each image's parent (configs never change: carried to the next index).
    std::map<Digest, std::optional<Digest>> parent_by_image;
  };
  Result<std::shared_ptr<const ImageIndex>> image_index();
  // The parent an image's config names (nullopt: none, or unreadable).
  std::optional<Digest> parent_of(const Digest& id) const;
  // After `id` was deleted: its untagged parents that nothing else uses
  // (no child, no container) go too, as docker's rmi does unless noprune.
  Result<void> remove_unused_parents(std::optional<Digest> parent, std::vector<DeleteItem>& out);
  std::mutex index_mu_;
  std::shared_ptr<const ImageIndex> index_;
};

}  // namespace berth::image
