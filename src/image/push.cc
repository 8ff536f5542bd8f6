// Push: layer blobs (exists / cross-repo mount / upload, at most
// max_concurrent_uploads at once), the config, then the manifest.
#include <unistd.h>

#include <algorithm>

#include "image/internal.h"

namespace berth::image {

namespace {

struct PushJob {
  oci::Descriptor desc;
  std::string id;  // short id for progress
  bool is_layer = true;
};

}  // namespace

Result<void> LocalImageService::push(const PushRequest& req, const ProgressFn& progress) {
  auto say = [&](const std::string& id, const std::string& status, int64_t cur = -1,
                 int64_t tot = -1) {
    if (progress) progress(ProgressEvent{id, status, cur, tot});
  };
  auto ref = BERTH_TRY(oci::Reference::parse(req.reference, false));
  if (ref.digest()) {
    return make_error(Errc::InvalidArgument, "cannot push a digest reference: {}", req.reference);
  }
  // Which tags: the one named, or every local tag of the repository.
  std::vector<oci::Reference> targets;
  if (ref.tag()) {
    targets.push_back(ref);
  } else {
    for (const auto& img : BERTH_TRY(meta_->list_images())) {
      for (const auto& t : BERTH_TRY(meta_->tags_of(img.id))) {
        auto r = oci::Reference::parse(t);
        if (r && r->name() == ref.name()) targets.push_back(*r);
      }
    }
    std::sort(targets.begin(), targets.end(),
              [](const auto& a, const auto& b) { return a.str() < b.str(); });
    if (targets.empty()) {
      return make_error(Errc::NotFound, "An image does not exist locally with the tag: {}",
                        ref.familiar_name());
    }
  }
  say("", "The push refers to repository [" + ref.name() + "]");
  for (const auto& target : targets) {
    auto id = BERTH_TRY(meta_->lookup_tag(target.str()));
    if (!id) {
      return make_error(Errc::NotFound, "An image does not exist locally with the tag: {}",
                        target.familiar_name());
    }
    auto rec = BERTH_TRY(meta_->get_image(*id));
    auto man_body = BERTH_TRY_CTX(content_->read(rec.manifest), "manifest of " + target.familiar());
    auto m = BERTH_TRY(oci::decode_manifest(man_body));
    auto repo_digests = BERTH_TRY(meta_->repo_digests_of(*id));

    std::vector<PushJob> jobs;
    for (auto it = m.layers.rbegin(); it != m.layers.rend(); ++it)
      jobs.push_back(PushJob{*it, it->digest.short_id(), true});
    for (const auto& j : jobs) say(j.id, "Preparing");
    const int workers = max_uploads();
    for (size_t i = static_cast<size_t>(workers); i < jobs.size(); ++i) say(jobs[i].id, "Waiting");

    auto push_one = [&](const PushJob& j) -> Result<void> {
      const auto& d = j.desc;
      if (req.cancel && req.cancel->load()) return make_error(Errc::Cancelled, "push cancelled");
      if (BERTH_TRY(reg_->blob_exists(target, d.digest, req.credentials))) {
        if (j.is_layer) say(j.id, "Layer already exists");
        return ok();
      }
      for (const auto& rd : repo_digests) {
        auto from = oci::Reference::parse(rd.repository, false);
        if (!from || from->domain() != target.domain() || from->path() == target.path()) continue;
        auto mounted = reg_->mount_blob(target, d.digest, from->path(), req.credentials);
        if (mounted && *mounted) {
          if (j.is_layer) say(j.id, "Mounted from " + from->familiar_name());
          return ok();
        }
      }
      if (!content_->exists(d.digest)) {
        return make_error(Errc::NotFound, "blob {} of {} is not stored locally", d.digest.str(),
                          target.familiar());
      }
      auto fd = std::make_shared<Fd>(BERTH_TRY(content_->open_blob(d.digest)));
      auto src = fd_source(fd);
      int64_t last = -(512 << 10);
      BERTH_TRY(reg_->push_blob(
          target, d.digest, d.size, src,
          [&](int64_t cur, int64_t total) {
            if (j.is_layer && (cur - last >= (512 << 10) || cur == total)) {
              last = cur;
              say(j.id, "Pushing", cur, total);
            }
          },
          req.credentials));
      if (j.is_layer) say(j.id, "Pushed");
      return ok();
    };

    std::mutex mu;
    std::optional<Error> err;
    {
      WorkerPool pool(workers);
      for (const auto& j : jobs) {
        pool.submit([&, j] {
          {
            std::lock_guard lock(mu);
            if (err) return;
          }
          auto r = push_one(j);
          if (!r) {
            std::lock_guard lock(mu);
            if (!err) err = std::move(r).error();
          }
        });
      }
      pool.wait_idle();
    }
    if (err) return *err;
    BERTH_TRY(push_one(PushJob{m.config, m.config.digest.short_id(), false}));
    auto digest =
        BERTH_TRY(reg_->put_manifest(target, rec.manifest_media_type, man_body, req.credentials));
    say("", fmt::format("{}: digest: {} size: {}", target.tag().value_or("latest"), digest.str(),
                        man_body.size()));
    if (progress) {
      ProgressEvent aux_ev;
      aux_ev.aux = Json{{"Tag", target.tag().value_or("latest")},
                        {"Digest", digest.str()},
                        {"Size", static_cast<int64_t>(man_body.size())}};
      progress(aux_ev);
    }
    // Remember where it lives now (docker adds a RepoDigest after a push).
    metadata::ImageCommit c;
    c.image = rec;
    c.repo_digest = metadata::RepoDigest{target.name(), digest};
    (void)meta_->commit_image(c);
    emit("push", target.familiar(), target.familiar_name());
  }
  return ok();
}

}  // namespace berth::image
