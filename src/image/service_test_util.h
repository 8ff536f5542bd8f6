// Shared by the image service's unit tests: a service over a temp data
// root and a fake registry, and helpers that publish images to it.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "base/file.h"
#include "image/fake_registry_test.h"
#include "image/internal.h"
#include "image/tar_io.h"

namespace berth::image {

using testing::FakeRegistry;
namespace fs = std::filesystem;

inline std::string make_tar(const std::map<std::string, std::string>& files) {
  std::string out;
  ByteSink sink = [&](std::string_view d) -> Result<void> {
    out.append(d);
    return ok();
  };
  auto w = TarWriter::open(sink);
  EXPECT_TRUE(w);
  for (const auto& [name, data] : files) EXPECT_TRUE((*w)->add_bytes(name, data));
  EXPECT_TRUE((*w)->close());
  return out;
}

inline ByteSource from_string(const std::string& s) {
  auto done = std::make_shared<bool>(false);
  return [s, done]() -> Result<std::string> {
    if (*done) return std::string();
    *done = true;
    return s;
  };
}

inline std::string random_bytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

// A gzip-compressed tar (what registries usually serve), made with libarchive.
inline std::string make_tar_gz(const std::string& name, const std::string& data) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* o, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(o)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

struct Published {
  Digest id;
  Digest manifest;
  std::string manifest_body;
  std::vector<Digest> layers;
};

inline Published publish(FakeRegistry& reg, const std::string& name_tag,
                         const std::vector<std::string>& layer_tars,
                         const std::string& arch = "amd64", bool add_tag = true,
                         const std::vector<Digest>& diff_ids = {}, const Json& history = nullptr) {
  Published p;
  oci::ImageManifest m;
  m.media_type = oci::media::kOciManifest;
  Json diff = Json::array();
  for (const auto& t : layer_tars) {
    Digest d = reg.add_blob(t);
    p.layers.push_back(d);
    bool gz = !diff_ids.empty();
    diff.push_back(gz ? diff_ids[p.layers.size() - 1].str() : d.str());
    m.layers.push_back(
        oci::Descriptor{std::string(gz ? oci::media::kOciLayerGzip : oci::media::kOciLayer),
                        d,
                        static_cast<int64_t>(t.size()),
                        {},
                        {},
                        {}});
  }
  Json cfg = {{"architecture", arch},
              {"os", "linux"},
              {"created", "2024-01-02T03:04:05Z"},
              {"config", {{"Cmd", {"sh"}}, {"Labels", {{"team", "a"}}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff}}}};
  if (!history.is_null()) cfg["history"] = history;
  std::string cfg_body = dump_json(cfg);
  p.id = reg.add_blob(cfg_body);
  m.config = oci::Descriptor{
      std::string(oci::media::kOciConfig), p.id, static_cast<int64_t>(cfg_body.size()), {}, {}, {}};
  p.manifest_body = oci::encode_manifest(m);
  p.manifest = sha256_of(p.manifest_body);
  if (add_tag) {
    reg.add_manifest(name_tag, std::string(oci::media::kOciManifest), p.manifest_body);
  } else {
    std::lock_guard l(reg.mu);
    reg.by_digest[p.manifest] = {std::string(oci::media::kOciManifest), p.manifest_body};
  }
  return p;
}

class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto m = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(m) << m.error().message;
    meta_ = std::move(*m);
    reg_ = std::make_shared<FakeRegistry>();
    LocalOptions o;
    o.data_root = dir_;
    // BERTH_IMAGE_TEST_DRIVER=overlayfs runs the suite on overlay (needs root).
    const char* drv = getenv("BERTH_IMAGE_TEST_DRIVER");
    o.storage_driver = drv ? drv : "copy";
    o.registry_client = reg_;
    auto s = open_local_image_service(o, meta_);
    ASSERT_TRUE(s) << s.error().message;
    svc_ = std::move(*s);
    svc_->set_event_sink([this](const ImageEvent& e) {
      std::lock_guard l(mu_);
      events_.push_back(e);
    });
  }
  void TearDown() override {
    svc_.reset();
    meta_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<PullResult> pull(const std::string& ref, std::vector<ProgressEvent>* lines = nullptr,
                          std::optional<Platform> plat = std::nullopt) {
    PullRequest r;
    r.reference = ref;
    r.platform = plat;
    std::mutex m;
    return svc_->pull(r, [&](const ProgressEvent& e) {
      std::lock_guard l(m);
      if (lines) lines->push_back(e);
    });
  }
  bool saw(const std::vector<ProgressEvent>& lines, const std::string& status,
           const std::string& id = "") {
    for (const auto& l : lines)
      if (l.status == status && (id.empty() || l.id == id)) return true;
    return false;
  }
  size_t blob_count() {
    size_t n = 0;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(dir_ + "/content/blobs/sha256", ec)) {
      (void)e;
      ++n;
    }
    return n;
  }
  std::vector<std::string> event_actions() {
    std::lock_guard l(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.action);
    return out;
  }

  std::string dir_;
  std::shared_ptr<metadata::MetadataStore> meta_;
  std::shared_ptr<FakeRegistry> reg_;
  std::unique_ptr<ImageService> svc_;
  std::mutex mu_;
  std::vector<ImageEvent> events_;
};

}  // namespace berth::image
