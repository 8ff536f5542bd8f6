// LocalImageService: construction, small verbs, registry passthrough and the
// helpers shared by the other files.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "image/internal.h"

namespace berth::image {

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

WorkerPool::WorkerPool(int threads) {
  threads = std::max(1, std::min(threads, 32));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void WorkerPool::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
}

void WorkerPool::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.erase(queue_.begin());
      ++busy_;
    }
    job();
    {
      std::lock_guard lock(mu_);
      --busy_;
    }
    idle_cv_.notify_all();
  }
}

snapshot::ByteSource fd_source(std::shared_ptr<Fd> fd, std::atomic<int64_t>* counter) {
  return [fd, counter]() -> Result<std::string> {
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(fd->get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("read layer blob");
      buf.resize(static_cast<size_t>(n));
      if (counter) *counter += n;
      return buf;
    }
  };
}

LocalImageService::LocalImageService(LocalOptions opts,
                                     std::shared_ptr<metadata::MetadataStore> meta,
                                     std::unique_ptr<content::ContentStore> content,
                                     std::unique_ptr<snapshot::Snapshotter> snap,
                                     std::shared_ptr<registry::Client> reg)
    : opts_(std::move(opts)),
      meta_(std::move(meta)),
      content_(std::move(content)),
      snap_(std::move(snap)),
      reg_(std::move(reg)) {}

Result<std::unique_ptr<ImageService>> open_local_image_service(
    const LocalOptions& opts, std::shared_ptr<metadata::MetadataStore> meta) {
  if (opts.data_root.empty()) return make_error(Errc::InvalidArgument, "data root is empty");
  if (!meta) return make_error(Errc::InvalidArgument, "metadata store is null");
  std::error_code ec;
  std::filesystem::create_directories(opts.data_root + "/tmp", ec);
  if (ec) return make_error(Errc::Io, "create {}/tmp: {}", opts.data_root, ec.message());
  // Leftovers of loads/imports interrupted by a crash.
  for (auto& e : std::filesystem::directory_iterator(opts.data_root + "/tmp", ec)) {
    std::error_code ec2;
    std::filesystem::remove_all(e.path(), ec2);
  }
  auto content =
      BERTH_TRY_CTX(content::ContentStore::open(opts.data_root + "/content"), "open content store");
  auto snap =
      BERTH_TRY_CTX(snapshot::open_snapshotter(opts.data_root + "/snapshots", opts.storage_driver),
                    "open snapshotter");
  BERTH_TRY_CTX(snap->clean_tmp(), "clean snapshot tmp");
  std::shared_ptr<registry::Client> reg = opts.registry_client;
  if (!reg) reg = BERTH_TRY(registry::Client::create(opts.registry));
  return std::unique_ptr<ImageService>(std::make_unique<LocalImageService>(
      opts, std::move(meta), std::move(content), std::move(snap), std::move(reg)));
}

void LocalImageService::set_event_sink(EventFn fn) {
  std::lock_guard lock(mu_);
  events_ = std::move(fn);
}

void LocalImageService::emit(const std::string& action, const std::string& id,
                             const std::string& name) {
  EventFn fn;
  {
    std::lock_guard lock(mu_);
    fn = events_;
  }
  if (!fn) return;
  ImageEvent e{action, id, {}};
  if (!name.empty()) e.attributes["name"] = name;
  fn(e);
}

void LocalImageService::set_registry_options(const registry::Options& o, int max_downloads,
                                             int max_uploads) {
  reg_->set_options(o);
  std::lock_guard lock(mu_);
  opts_.registry = o;
  if (max_downloads > 0) opts_.max_concurrent_downloads = max_downloads;
  if (max_uploads > 0) opts_.max_concurrent_uploads = max_uploads;
}

int LocalImageService::max_downloads() const {
  std::lock_guard lock(mu_);
  return std::max(1, opts_.max_concurrent_downloads);
}

int LocalImageService::max_uploads() const {
  std::lock_guard lock(mu_);
  return std::max(1, opts_.max_concurrent_uploads);
}

std::string LocalImageService::storage_driver() const { return snap_->name(); }

Result<std::vector<registry::SearchResult>> LocalImageService::search(
    const std::string& term, int limit, const registry::Credentials& cred) {
  // "host:5000/term" searches that registry; anything else searches Hub.
  std::string domain(oci::kDockerHubDomain);
  std::string q = term;
  auto slash = term.find('/');
  if (slash != std::string::npos) {
    std::string first = term.substr(0, slash);
    if (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
        first == "localhost") {
      domain = first;
      q = term.substr(slash + 1);
    }
  }
  if (domain == "index.docker.io" || domain == "registry-1.docker.io") domain = "docker.io";
  if (limit <= 0) limit = 25;
  if (limit > 100)
    return make_error(Errc::InvalidArgument, "limit {} is outside the range of [1, 100]", limit);
  return reg_->search(domain, q, limit, cred);
}

Result<std::vector<std::string>> LocalImageService::list_tags(const std::string& repository,
                                                              const registry::Credentials& cred) {
  auto ref = BERTH_TRY(oci::Reference::parse(repository, false));
  return reg_->list_tags(ref.name_only(), cred);
}

Result<std::string> LocalImageService::login(const std::string& server_address,
                                             const registry::Credentials& cred) {
  std::string domain = server_address;
  for (std::string_view p : {"https://", "http://"})
    if (domain.rfind(p, 0) == 0) domain = domain.substr(p.size());
  while (!domain.empty() && domain.back() == '/') domain.pop_back();
  if (auto s = domain.find('/'); s != std::string::npos) domain = domain.substr(0, s);
  if (domain.empty() || domain == "index.docker.io" || domain == "registry-1.docker.io")
    domain = "docker.io";
  // The registry's identity token (if any) is not part of docker's answer
  // for password logins; the status text is what clients print.
  BERTH_TRY(reg_->login(domain, cred));
  return std::string("Login Succeeded");
}

}  // namespace berth::image
