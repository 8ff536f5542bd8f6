// engine/fake_image_service.h — an in-memory ImageService for tests of the
// engine and the API layer (no stores, no registry). Records calls; errors
// can be injected per method.
// Depends on: engine/images.h.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/images.h"

namespace berth::engine::testing {

class FakeImageService : public ImageService {
 public:
  struct Image {
    ImageSummary summary;
    Json config;
  };
  std::vector<Image> images;
  std::optional<Error> fail_next;  // returned by the next call that can fail
  std::vector<ProgressEvent> pull_progress = {
      {"latest", "Pulling from library/busybox", -1, -1},
      {"aaaaaaaaaaaa", "Downloading", 10, 100},
      {"aaaaaaaaaaaa", "Pull complete", -1, -1},
  };
  std::optional<Error> fail_after_progress;  // pull: error after the progress lines
  std::vector<std::string> calls;            // "pull busybox:latest", ...
  PullRequest last_pull;
  PushRequest last_push;
  ListFilters last_list;
  ImportRequest last_import;
  std::string last_body;  // load/import bytes
  registry::Credentials last_login;
  std::vector<std::string> tags = {"1.36", "latest"};
  image::DistributionInfo distribution;
  std::vector<registry::SearchResult> search_results = {
      {"busybox", "Busybox base image.", 3000, true, false},
      {"someone/busybox", "", 5, false, true},
  };
  registry::Options registry_options;
  int max_downloads = 0, max_uploads = 0;
  EventFn sink;

  void set_event_sink(EventFn fn) override {
    std::lock_guard lk(mu_);
    sink = std::move(fn);
  }
  void emit(const ImageEvent& e) {
    EventFn f;
    {
      std::lock_guard lk(mu_);
      f = sink;
    }
    if (f) f(e);
  }

  Result<PullResult> pull(const PullRequest& req, const ProgressFn& progress) override {
    calls.push_back("pull " + req.reference);
    last_pull = req;
    if (auto e = take_failure()) return *e;
    for (const auto& p : pull_progress) progress(p);
    if (fail_after_progress) return *fail_after_progress;
    emit({"pull", req.reference, {{"name", req.reference}}});
    PullResult r;
    r.reference = req.reference;
    return r;
  }
  Result<void> push(const PushRequest& req, const ProgressFn& progress) override {
    calls.push_back("push " + req.reference);
    last_push = req;
    if (auto e = take_failure()) return *e;
    progress({"", "The push refers to repository [" + req.reference + "]", -1, -1});
    return ok();
  }
  Result<std::vector<ImageSummary>> list(const ListFilters& f) override {
    calls.push_back("list");
    last_list = f;
    if (auto e = take_failure()) return *e;
    std::vector<ImageSummary> out;
    for (const auto& i : images) out.push_back(i.summary);
    return out;
  }
  Result<ImageDetail> inspect(const std::string& name) override {
    calls.push_back("inspect " + name);
    if (auto e = take_failure()) return *e;
    for (const auto& i : images) {
      bool match = i.summary.id.str() == name || i.summary.id.hex().rfind(name, 0) == 0;
      for (const auto& t : i.summary.repo_tags) match = match || t == name;
      if (!match) continue;
      ImageDetail d;
      d.summary = i.summary;
      d.config = i.config;
      d.os = "linux";
      d.architecture = "amd64";
      return d;
    }
    return make_error(Errc::NotFound, "No such image: {}", name);
  }
  Result<std::vector<HistoryEntry>> history(const std::string& name) override {
    calls.push_back("history " + name);
    if (auto e = take_failure()) return *e;
    auto d = inspect(name);
    if (!d) return d.error();
    return std::vector<HistoryEntry>{{d->summary.id.str(), 1, "CMD [\"sh\"]", {}, 0, ""},
                                     {"<missing>", 1, "ADD file", {}, 100, ""}};
  }
  Result<void> tag(const std::string& source, const std::string& repo,
                   const std::string& t) override {
    calls.push_back("tag " + source + " " + repo + " " + t);
    if (auto e = take_failure()) return *e;
    return ok();
  }
  Result<std::vector<DeleteItem>> remove(const std::string& name, bool force,
                                         bool noprune) override {
    calls.push_back(fmt::format("remove {} force={} noprune={}", name, force, noprune));
    if (auto e = take_failure()) return *e;
    return std::vector<DeleteItem>{{name, ""}, {"", "sha256:" + std::string(64, 'a')}};
  }
  Result<PruneReport> prune(bool all, const std::vector<std::string>& labels,
                            std::optional<int64_t> until) override {
    calls.push_back(
        fmt::format("prune all={} labels={} until={}", all, labels.size(), until ? *until : -1));
    if (auto e = take_failure()) return *e;
    return PruneReport{{{"", "sha256:" + std::string(64, 'b')}}, 42};
  }
  Result<void> save(const std::vector<std::string>& names, const ByteSink& sink_fn) override {
    std::string all;
    for (const auto& n : names) all += n + ",";
    calls.push_back("save " + all);
    if (auto e = take_failure()) return *e;
    BERTH_TRY(sink_fn("TAR:"));
    return sink_fn(all);
  }
  Result<std::vector<std::string>> load(const ByteSource& src,
                                        const ProgressFn& progress) override {
    calls.push_back("load");
    if (auto e = take_failure()) return *e;
    last_body = BERTH_TRY(drain(src));
    progress({"", "Loading layer", 5, 10});
    return std::vector<std::string>{"busybox:latest"};
  }
  Result<Digest> import(const ImportRequest& req, const ByteSource& src,
                        const ProgressFn&) override {
    calls.push_back("import " + req.repository + ":" + req.tag);
    last_import = req;
    if (auto e = take_failure()) return *e;
    last_body = BERTH_TRY(drain(src));
    return sha256_of(last_body);
  }
  Result<std::vector<registry::SearchResult>> search(const std::string& term, int limit,
                                                     const registry::Credentials&) override {
    calls.push_back(fmt::format("search {} {}", term, limit));
    if (auto e = take_failure()) return *e;
    return search_results;
  }
  Result<std::vector<std::string>> list_tags(const std::string& repository,
                                             const registry::Credentials&) override {
    calls.push_back("list_tags " + repository);
    if (auto e = take_failure()) return *e;
    return tags;
  }
  Result<image::DistributionInfo> distribution_inspect(const std::string& name,
                                                       const registry::Credentials&) override {
    calls.push_back("distribution " + name);
    if (auto e = take_failure()) return *e;
    return distribution;
  }
  Result<std::string> login(const std::string& server, const registry::Credentials& cred) override {
    calls.push_back("login " + server);
    last_login = cred;
    if (auto e = take_failure()) return *e;
    return std::string();
  }
  Result<DiskUsage> disk_usage() override {
    calls.push_back("disk_usage");
    if (auto e = take_failure()) return *e;
    DiskUsage d;
    d.layers_size = 1234;
    for (const auto& i : images) d.images.push_back(i.summary);
    return d;
  }
  Result<int64_t> gc() override {
    calls.push_back("gc");
    return int64_t{0};
  }
  void set_registry_options(const registry::Options& o, int dl, int ul) override {
    registry_options = o;
    max_downloads = dl;
    max_uploads = ul;
  }
  std::string storage_driver() const override { return "overlayfs"; }

  // Container rootfs: a bind of `rootfs_dir` (a prepared root tree) per id.
  std::string rootfs_dir = "/nonexistent";
  std::set<std::string> container_rootfs;
  Result<std::vector<image::RootfsMount>> prepare_container_rootfs(
      const std::string& id, const Digest& image, Durability d = Durability::Durable) override {
    std::lock_guard lk(mu_);
    calls.push_back("prepare_container_rootfs " + id + " " + image.str() +
                    (d == Durability::Durable ? "" : " ephemeral"));
    if (auto e = take_failure()) return *e;
    if (!container_rootfs.insert(id).second) {
      return make_error(Errc::AlreadyExists, "container {} already has a rootfs", id);
    }
    return std::vector<image::RootfsMount>{{"bind", rootfs_dir, {"rbind", "rw"}}};
  }
  Result<bool> repair_container_rootfs(const std::string& id, const Digest& image) override {
    std::lock_guard lk(mu_);
    if (container_rootfs.contains(id)) return false;
    calls.push_back("repair_container_rootfs " + id + " " + image.str());
    container_rootfs.insert(id);
    return true;
  }
  Result<void> remove_container_rootfs(const std::string& id) override {
    std::lock_guard lk(mu_);
    container_rootfs.erase(id);
    return ok();
  }
  Result<std::vector<std::string>> list_container_rootfs() override {
    std::lock_guard lk(mu_);
    return std::vector<std::string>(container_rootfs.begin(), container_rootfs.end());
  }

  static Result<std::string> drain(const ByteSource& src) {
    std::string out;
    for (int i = 0; i < 100000; ++i) {
      auto chunk = BERTH_TRY(src());
      if (chunk.empty()) return out;
      out += chunk;
    }
    return make_error(Errc::Internal, "fake: body too long");
  }

 private:
  std::optional<Error> take_failure() {
    if (!fail_next) return std::nullopt;
    auto e = std::move(fail_next);
    fail_next.reset();
    return e;
  }
  std::mutex mu_;
};

}  // namespace berth::engine::testing
