// Pull, layer phase: up to max_concurrent_downloads blobs download at once
// into resumable ingests; each layer is unpacked as soon as its blob is
// committed (overlay: in the download worker, so layers unpack in parallel;
// copy: in order on the pulling thread, since each needs its parent).
#include <chrono>
#include <condition_variable>

#include "image/internal.h"

namespace berth::image {

namespace {

// At most one "Downloading"/"Extracting" line per this many bytes per layer.
constexpr int64_t kProgressStep = 512 * 1024;

}  // namespace

Result<content::BlobInfo> LocalImageService::download_blob(
    const oci::Reference& ref, const PullRequest& req, const oci::Descriptor& d,
    const std::atomic<bool>* cancel, const std::function<void(int64_t, int64_t)>& prog) {
  if (auto i = content_->info(d.digest)) return *i;
  return blob_flight_.run(d.digest, [&]() -> Result<content::BlobInfo> {
    if (auto i = content_->info(d.digest)) return *i;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto ing = BERTH_TRY_CTX(content_->ingest(d.digest.str()), "blob " + d.digest.str());
      int64_t off = ing->offset();
      if (off > d.size) {
        BERTH_TRY(ing->truncate());
        off = 0;
      }
      int64_t written = off;
      bool overflow = false;
      if (off < d.size) {
        registry::BlobFetch f;
        f.offset = off;
        f.cancel = cancel;
        f.progress = [&](int64_t cur, int64_t total) {
          if (prog) prog(cur, total > 0 ? total : d.size);
        };
        auto r = reg_->fetch_blob(
            ref, d.digest, req.credentials, f, [&](std::string_view data) -> Result<void> {
              if (written + static_cast<int64_t>(data.size()) > d.size) {
                overflow = true;
                return make_error(Errc::InvalidArgument,
                                  "blob {}: size mismatch: the registry sent more than the {} "
                                  "bytes the manifest declares",
                                  d.digest.str(), d.size);
              }
              BERTH_TRY_CTX(ing->write(data), "write blob " + d.digest.str());
              written += static_cast<int64_t>(data.size());
              return ok();
            });
        if (!r) {
          if (overflow && off > 0 && attempt == 0) {
            // The server ignored Range and sent the blob from byte 0: start over.
            BERTH_TRY(ing->truncate());
            continue;
          }
          if (overflow) ing->abort();
          return std::move(r).error();
        }
        if (r->restarted && off > 0 && attempt == 0) {
          BERTH_TRY(ing->truncate());
          continue;
        }
      }
      if (written < d.size) {
        // The registry ended the blob cleanly (after the client's resumed
        // retries) short of the manifest's size: the manifest or the
        // registry lies, and a retry would get the same bytes.
        return make_error(Errc::InvalidArgument,
                          "size mismatch for blob {}: the manifest says {} bytes, the registry "
                          "sent {} (truncated)",
                          d.digest.str(), d.size, written);
      }
      return ing->commit(d.size, d.digest);
    }
    return make_error(Errc::Io, "blob {}: download restarted twice", d.digest.str());
  });
}

Result<std::vector<metadata::LayerRecord>> LocalImageService::pull_layers(
    const oci::Reference& ref, const PullRequest& req, const oci::ImageManifest& m,
    const oci::ImageConfig& cfg, const ProgressFn& progress) {
  const size_t n = m.layers.size();
  const auto chain = oci::chain_ids(cfg.diff_ids);
  const bool parallel_unpack = std::string(snap_->name()) == "overlayfs";
  auto say = [&](const std::string& id, const std::string& status, int64_t cur = -1,
                 int64_t tot = -1) {
    if (progress) progress(ProgressEvent{id, status, cur, tot});
  };

  struct State {
    bool present = false;
    bool downloaded = false;
    bool unpacked = false;
    std::optional<Error> error;
    std::optional<metadata::LayerRecord> rec;
  };
  std::vector<State> st(n);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> stop{false};
  std::atomic<bool> stop_or_cancel{false};
  auto is_stopped = [&] { return stop.load() || (req.cancel && req.cancel->load()); };

  std::vector<std::string> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = m.layers[i].digest.short_id();
  for (size_t i = 0; i < n; ++i) {
    st[i].present = BERTH_TRY(layer_present(chain[i]));
    if (st[i].present) {
      st[i].downloaded = st[i].unpacked = true;
      st[i].rec = BERTH_TRY(meta_->get_layer(chain[i]));
      say(ids[i], "Already exists");
    } else {
      say(ids[i], "Pulling fs layer");
    }
  }
  const int workers = max_downloads();
  {
    int queued = 0;
    for (size_t i = 0; i < n; ++i)
      if (!st[i].present && queued++ >= workers) say(ids[i], "Waiting");
  }

  auto unpack = [&](size_t i) -> Result<metadata::LayerRecord> {
    int64_t last = -kProgressStep;
    const int64_t total = m.layers[i].size;
    std::function<void(int64_t)> on_bytes = [&, i](int64_t cur) {
      if (cur - last >= kProgressStep || cur == total) {
        last = cur;
        say(ids[i], "Extracting", cur, total);
      }
    };
    std::optional<Digest> parent = i ? std::optional<Digest>(chain[i - 1]) : std::nullopt;
    return unpack_blob(m.layers[i].digest, m.layers[i].media_type, cfg.diff_ids[i], parent,
                       on_bytes);
  };

  {
    WorkerPool pool(workers);
    for (size_t i = 0; i < n; ++i) {
      if (st[i].present) continue;
      pool.submit([&, i] {
        if (is_stopped()) {
          std::lock_guard lock(mu);
          st[i].error = make_error(Errc::Cancelled, "pull cancelled");
          cv.notify_all();
          return;
        }
        int64_t last = -kProgressStep;
        auto r = download_blob(ref, req, m.layers[i], req.cancel ? req.cancel : &stop_or_cancel,
                               [&, i](int64_t cur, int64_t total) {
                                 if (cur - last >= kProgressStep || cur == total) {
                                   last = cur;
                                   say(ids[i], "Downloading", cur, total);
                                 }
                               });
        if (r) {
          say(ids[i], "Verifying Checksum");
          say(ids[i], "Download complete");
        }
        std::optional<metadata::LayerRecord> rec;
        std::optional<Error> err;
        if (!r) err = std::move(r).error();
        if (!err && parallel_unpack && !is_stopped()) {
          auto u = unpack(i);
          if (u) {
            rec = *u;
            say(ids[i], "Pull complete");
          } else {
            err = std::move(u).error();
          }
        }
        std::lock_guard lock(mu);
        st[i].downloaded = true;
        if (err) {
          st[i].error = std::move(err);
          stop = true;
        }
        if (rec) {
          st[i].rec = std::move(rec);
          st[i].unpacked = true;
        }
        cv.notify_all();
      });
    }

    // In order: wait for each layer; unpack here when the driver needs the parent.
    std::optional<Error> first_error;
    for (size_t i = 0; i < n && !first_error; ++i) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return st[i].downloaded || st[i].error.has_value(); });
        if (st[i].error) {
          first_error = *st[i].error;
          break;
        }
        if (st[i].unpacked) continue;
      }
      if (is_stopped()) {
        first_error = make_error(Errc::Cancelled, "pull of {} cancelled", ref.familiar());
        break;
      }
      auto u = unpack(i);
      if (!u) {
        first_error = std::move(u).error();
        break;
      }
      say(ids[i], "Pull complete");
      std::lock_guard lock(mu);
      st[i].rec = *u;
      st[i].unpacked = true;
    }
    if (first_error) {
      stop = true;
      stop_or_cancel = true;
      pool.wait_idle();
      // Report the root cause, not a cancellation it caused in another worker.
      for (const auto& s : st)
        if (s.error && s.error->code != Errc::Cancelled) return *s.error;
      return *first_error;
    }
    pool.wait_idle();
  }
  std::vector<metadata::LayerRecord> out;
  for (auto& s : st) out.push_back(*s.rec);
  return out;
}

}  // namespace berth::image
