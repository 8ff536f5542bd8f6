// Pull: reference -> manifest (platform choice) -> config -> layers -> one
// metadata commit. Layer download/unpack is in pull_layers.cc.
#include "base/scope_exit.h"
#include "image/internal.h"

namespace berth::image {

namespace {

constexpr int64_t kLeaseSeconds = 3600;

// Errors after which a retry cannot succeed: the lease is released so GC may
// collect what the pull stored. Transient ones keep it for the retry.
bool permanent(const Error& e) {
  return e.code == Errc::InvalidArgument || e.code == Errc::NotFound ||
         e.code == Errc::NotImplemented || e.code == Errc::FailedPrecondition;
}

oci::ImagePlatform want_platform(const PullRequest& req) {
  Platform p = req.platform.value_or(Platform{});
  return oci::ImagePlatform{p.os, p.architecture, p.variant, "", {}};
}

}  // namespace

Result<PullResult> LocalImageService::pull(const PullRequest& req, const ProgressFn& progress) {
  auto ref = BERTH_TRY(oci::Reference::parse(req.reference, !req.all_tags));
  if (!req.all_tags) return pull_one(ref, req, progress);
  auto tags = BERTH_TRY(reg_->list_tags(ref.name_only(), req.credentials));
  if (tags.empty()) return make_error(Errc::NotFound, "no tags found for {}", ref.familiar_name());
  PullResult last;
  for (const auto& t : tags) last = BERTH_TRY(pull_one(ref.with_tag(t), req, progress));
  return last;
}

Result<std::string> LocalImageService::fetch_config(const oci::Reference& ref,
                                                    const oci::Descriptor& config,
                                                    const registry::Credentials& cred,
                                                    const std::atomic<bool>* cancel) {
  if (config.size > kMaxConfigSize) {
    return make_error(Errc::InvalidArgument, "image config {} is too large ({} bytes)",
                      config.digest.str(), config.size);
  }
  std::string bytes;
  BERTH_TRY(reg_->fetch_blob(ref, config.digest, cred, {0, {}, cancel},
                             [&](std::string_view data) -> Result<void> {
                               if (static_cast<int64_t>(bytes.size() + data.size()) > config.size) {
                                 return make_error(Errc::InvalidArgument,
                                                   "image config {}: more than the {} bytes the "
                                                   "manifest declares",
                                                   config.digest.str(), config.size);
                               }
                               bytes.append(data);
                               return ok();
                             }));
  Digest got = sha256_of(bytes);
  if (got != config.digest) {
    return make_error(Errc::InvalidArgument, "image config: digest mismatch: expected {}, got {}",
                      config.digest.str(), got.str());
  }
  if (static_cast<int64_t>(bytes.size()) != config.size) {
    return make_error(Errc::InvalidArgument,
                      "image config {}: size mismatch: manifest says {}, got {}",
                      config.digest.str(), config.size, bytes.size());
  }
  return bytes;
}

Result<PullResult> LocalImageService::pull_one(const oci::Reference& ref, const PullRequest& req,
                                               const ProgressFn& progress) {
  auto say = [&](const std::string& id, const std::string& status) {
    if (progress) progress(ProgressEvent{id, status, -1, -1});
  };
  auto cancelled = [&] { return req.cancel && req.cancel->load(); };
  std::shared_lock gc_guard(gc_mu_);

  // The manifest first: a registry that cannot be reached or does not know
  // the name fails the pull before any progress line, so the API answers
  // with an HTTP error ("Error response from daemon: ..."), as docker does.
  auto top = BERTH_TRY(reg_->get_manifest(ref, req.credentials));
  say(ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest"),
      "Pulling from " + ref.path());
  auto kind = oci::manifest_kind(top.media_type, top.body);
  if (!kind && kind.error().code == Errc::NotImplemented) {
    return make_error(Errc::NotImplemented, "{}: {}", kind.error().message, ref.familiar());
  }
  if (!kind) return std::move(kind).error().context("manifest of " + ref.familiar());
  if (top.digest.valid() && sha256_of(top.body) != top.digest) {
    return make_error(Errc::InvalidArgument, "manifest of {}: digest mismatch: expected {}, got {}",
                      ref.familiar(), top.digest.str(), sha256_of(top.body).str());
  }
  Digest top_digest = sha256_of(top.body);
  if (ref.digest() && *ref.digest() != top_digest) {
    return make_error(Errc::InvalidArgument, "manifest digest mismatch: expected {}, got {}",
                      ref.digest()->str(), top_digest.str());
  }

  std::vector<std::string> small_blobs{top.body};
  registry::Manifest man = top;
  std::string man_mt = *kind;
  if (oci::is_index_media_type(*kind)) {
    auto idx = BERTH_TRY_CTX(oci::decode_index(top.body), "manifest list of " + ref.familiar());
    size_t i = BERTH_TRY(oci::select_platform(idx, want_platform(req)));
    const auto& d = idx.manifests[i];
    man = BERTH_TRY(reg_->get_manifest_by_digest(ref, d.digest, req.credentials));
    if (sha256_of(man.body) != d.digest) {
      return make_error(Errc::InvalidArgument, "manifest {}: digest mismatch (got {})",
                        d.digest.str(), sha256_of(man.body).str());
    }
    man_mt = BERTH_TRY(oci::manifest_kind(man.media_type, man.body));
    if (!oci::is_manifest_media_type(man_mt)) {
      return make_error(Errc::InvalidArgument, "manifest {} in the list of {} is not an image",
                        d.digest.str(), ref.familiar());
    }
    small_blobs.push_back(man.body);
  }
  Digest man_digest = sha256_of(man.body);
  auto m = BERTH_TRY_CTX(oci::decode_manifest(man.body), "manifest " + man_digest.str());

  // The lease protects what this pull stores until the image is committed;
  // a retry re-uses it (and so everything the failed attempt kept).
  std::string lease = "pull:" + top_digest.str();
  BERTH_TRY(meta_->create_lease(lease, now_unix() + kLeaseSeconds));
  bool committed = false;
  bool keep_lease = true;
  ScopeExit release([&] {
    if (!committed && !keep_lease) (void)meta_->release_lease(lease);
  });
  auto fail = [&](Error e) -> Result<PullResult> {
    keep_lease = !permanent(e);
    return e;
  };
  std::vector<Digest> blobs{top_digest};
  if (man_digest != top_digest) blobs.push_back(man_digest);
  blobs.push_back(m.config.digest);
  for (const auto& l : m.layers) blobs.push_back(l.digest);
  for (const auto& b : blobs) {
    auto r = meta_->add_lease_resource(lease, metadata::LeaseKind::Blob, b.str());
    if (!r) return fail(std::move(r).error());
  }
  for (const auto& body : small_blobs) {
    auto r = content_->put(body);
    if (!r) return fail(std::move(r).error().context("store manifest"));
  }

  // Config: small; fetched whole, verified, stored. Concurrent pulls of one
  // image share the fetch (single flight per digest, like layer blobs).
  auto stored = blob_flight_.run(m.config.digest, [&]() -> Result<content::BlobInfo> {
    if (content_->exists(m.config.digest)) return content_->info(m.config.digest);
    auto bytes = BERTH_TRY(fetch_config(ref, m.config, req.credentials, req.cancel));
    auto put = content_->put(bytes);
    if (!put) return std::move(put).error().context("store image config");
    return put;
  });
  if (!stored) return fail(std::move(stored).error());
  auto cfg_read = content_->read(m.config.digest);
  if (!cfg_read) return fail(std::move(cfg_read).error());
  std::string cfg_bytes = std::move(*cfg_read);
  auto cfg = oci::decode_image_config(cfg_bytes);
  if (!cfg) return fail(std::move(cfg).error().context("image config " + m.config.digest.str()));
  if (auto v = oci::validate_manifest(m, *cfg); !v) {
    return fail(std::move(v).error().context("manifest " + man_digest.str()));
  }
  auto chain = oci::chain_ids(cfg->diff_ids);
  for (const auto& c : chain) {
    auto r = meta_->add_lease_resource(lease, metadata::LeaseKind::Layer, c.str());
    if (!r) return fail(std::move(r).error());
  }
  const Digest image_id = m.config.digest;

  // Up to date: the tag already names this image and its layers are there.
  bool up_to_date = false;
  if (ref.tag()) {
    auto cur = meta_->lookup_tag(ref.str());
    if (cur && *cur && **cur == image_id) {
      up_to_date = true;
      for (const auto& c : chain) {
        auto p = layer_present(c);
        if (!p || !*p) up_to_date = false;
      }
    }
  }
  if (cancelled()) return fail(make_error(Errc::Cancelled, "pull of {} cancelled", ref.familiar()));
  if (!up_to_date) {
    auto layers = pull_layers(ref, req, m, *cfg, progress);
    if (!layers) return fail(std::move(layers).error());
  }

  auto rec = make_record(man_digest, man_mt, image_id, *cfg);
  if (!rec) return fail(std::move(rec).error());
  if (up_to_date) {
    if (auto old = meta_->get_image(image_id)) rec->added_ns = old->added_ns;
  }
  metadata::ImageCommit c;
  c.image = *rec;
  c.blobs = blobs;
  if (ref.tag() && !ref.digest()) c.tags.push_back(ref.str());
  c.repo_digest = metadata::RepoDigest{ref.name(), top_digest};
  c.release_lease = lease;
  auto moved = meta_->commit_image(c);
  if (!moved) return fail(std::move(moved).error().context("commit image"));
  committed = true;

  say("", "Digest: " + top_digest.str());
  say("", std::string(up_to_date ? "Status: Image is up to date for "
                                 : "Status: Downloaded newer image for ") +
              ref.familiar());
  emit("pull", ref.familiar(), ref.familiar_name());
  for (const auto& t : *moved) {
    if (t.previous && *t.previous != image_id) emit("untag", t.previous->str(), t.previous->str());
  }
  PullResult out;
  out.image_id = image_id;
  out.manifest = top_digest;
  out.reference = ref.familiar();
  out.up_to_date = up_to_date;
  return out;
}

}  // namespace berth::image
