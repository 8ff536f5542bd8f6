// A registry::Client serving in-memory manifests and blobs, for image tests.
// It can lie (serve other bytes than the digest names), fail a transfer
// after N bytes once, hold one blob back until another was served whole,
// slow transfers down, and counts what it was asked.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "registry/client.h"

namespace berth::image::testing {

class FakeRegistry : public registry::Client {
 public:
  std::mutex mu;
  std::map<std::string, std::pair<std::string, std::string>> tags;  // name:tag -> (mt, body)
  std::map<Digest, std::pair<std::string, std::string>> by_digest;  // -> (mt, body)
  std::map<Digest, std::string> blobs;
  std::map<Digest, std::string> lies;     // served instead of blobs[d]
  std::map<Digest, int64_t> fail_after;   // once: error after this many bytes
  std::map<Digest, Digest> served_after;  // d waits (<= 10 s) for the other's whole serving
  std::set<Digest> served;                // blobs served to their end at least once
  std::condition_variable served_cv;
  std::map<Digest, int> fetches;
  std::vector<int64_t> offsets;  // f.offset of every fetch
  std::chrono::milliseconds chunk_delay{0};
  std::set<Digest> remote;  // pushed / existing blobs
  std::map<std::string, std::string> pushed_manifests;

  void add_manifest(const std::string& name_tag, const std::string& mt, const std::string& body) {
    std::lock_guard l(mu);
    tags[name_tag] = {mt, body};
    by_digest[sha256_of(body)] = {mt, body};
  }
  Digest add_blob(const std::string& data) {
    std::lock_guard l(mu);
    Digest d = sha256_of(data);
    blobs[d] = data;
    return d;
  }
  int fetch_count(const Digest& d) {
    std::lock_guard l(mu);
    return fetches[d];
  }

  void set_options(registry::Options) override {}
  Result<registry::Manifest> get_manifest(const oci::Reference& ref,
                                          const registry::Credentials&) override {
    if (ref.digest()) return get_manifest_by_digest(ref, *ref.digest(), {});
    std::lock_guard l(mu);
    auto it = tags.find(ref.name() + ":" + ref.tag().value_or("latest"));
    if (it == tags.end()) {
      return make_error(Errc::NotFound, "manifest for {} not found: manifest unknown",
                        ref.familiar());
    }
    return registry::Manifest{it->second.first, it->second.second, sha256_of(it->second.second)};
  }
  Result<registry::Manifest> get_manifest_by_digest(const oci::Reference&, const Digest& d,
                                                    const registry::Credentials&) override {
    std::lock_guard l(mu);
    auto it = by_digest.find(d);
    if (it == by_digest.end()) return make_error(Errc::NotFound, "manifest unknown");
    return registry::Manifest{it->second.first, it->second.second, d};
  }
  Result<registry::BlobFetchResult> fetch_blob(const oci::Reference&, const Digest& d,
                                               const registry::Credentials&,
                                               const registry::BlobFetch& f,
                                               const registry::Sink& sink) override {
    std::string data;
    int64_t fail = -1;
    std::chrono::milliseconds delay;
    {
      std::unique_lock l(mu);
      if (auto w = served_after.find(d); w != served_after.end()) {
        const Digest other = w->second;
        if (!served_cv.wait_for(l, std::chrono::seconds(10), [&] { return served.count(other); }))
          return make_error(Errc::Io, "fake: {} was never served whole", other.str());
      }
      ++fetches[d];
      offsets.push_back(f.offset);
      auto lie = lies.find(d);
      if (lie != lies.end()) {
        data = lie->second;
      } else {
        auto it = blobs.find(d);
        if (it == blobs.end()) return make_error(Errc::NotFound, "blob unknown");
        data = it->second;
      }
      if (auto fa = fail_after.find(d); fa != fail_after.end()) {
        fail = fa->second;
        fail_after.erase(fa);
      }
      delay = chunk_delay;
    }
    registry::BlobFetchResult res;
    res.total = static_cast<int64_t>(data.size());
    int64_t pos = std::min<int64_t>(f.offset, data.size());
    while (pos < static_cast<int64_t>(data.size())) {
      if (f.cancel && f.cancel->load()) return make_error(Errc::Cancelled, "cancelled");
      int64_t n = std::min<int64_t>(4096, data.size() - pos);
      if (fail >= 0 && pos + n > fail) {
        n = fail - pos;
        if (n > 0) BERTH_TRY(sink(std::string_view(data).substr(pos, n)));
        return make_error(Errc::Io, "connection reset by fake");
      }
      BERTH_TRY(sink(std::string_view(data).substr(pos, n)));
      pos += n;
      if (f.progress) f.progress(pos, res.total);
      if (delay.count()) std::this_thread::sleep_for(delay);
    }
    {
      std::lock_guard l(mu);
      served.insert(d);
    }
    served_cv.notify_all();
    return res;
  }
  Result<bool> blob_exists(const oci::Reference&, const Digest& d,
                           const registry::Credentials&) override {
    std::lock_guard l(mu);
    return remote.count(d) > 0;
  }
  Result<bool> mount_blob(const oci::Reference&, const Digest&, const std::string&,
                          const registry::Credentials&) override {
    return false;
  }
  Result<void> push_blob(const oci::Reference&, const Digest& d, int64_t size,
                         const std::function<Result<std::string>()>& read,
                         const registry::Progress& progress,
                         const registry::Credentials&) override {
    std::string all;
    for (;;) {
      auto c = BERTH_TRY(read());
      if (c.empty()) break;
      all += c;
      if (progress) progress(static_cast<int64_t>(all.size()), size);
    }
    if (sha256_of(all) != d) return make_error(Errc::InvalidArgument, "pushed bytes mismatch");
    std::lock_guard l(mu);
    remote.insert(d);
    blobs[d] = all;
    return ok();
  }
  Result<Digest> put_manifest(const oci::Reference& ref, const std::string& mt,
                              const std::string& body, const registry::Credentials&) override {
    std::lock_guard l(mu);
    pushed_manifests[ref.str()] = body;
    tags[ref.name() + ":" + ref.tag().value_or("latest")] = {mt, body};
    by_digest[sha256_of(body)] = {mt, body};
    return sha256_of(body);
  }
  Result<std::vector<registry::SearchResult>> search(const std::string&, const std::string& term,
                                                     int, const registry::Credentials&) override {
    return std::vector<registry::SearchResult>{{term, "fake", 1, true, false}};
  }
  Result<std::vector<std::string>> list_tags(const oci::Reference&,
                                             const registry::Credentials&) override {
    return std::vector<std::string>{};
  }
  Result<std::string> login(const std::string&, const registry::Credentials&) override {
    return std::string();
  }
};

}  // namespace berth::image::testing
