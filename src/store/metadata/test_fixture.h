// store/metadata/test_fixture.h — a temp directory with a MetadataStore in
// it, for this module's unit tests (removed even when a test fails).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "store/metadata/metadata.h"

namespace berth::metadata {

class MetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-metadata-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    db_path_ = dir_ + "/metadata.db";
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(::system(cmd.c_str()), 0);
  }
  void reopen() {
    store_.reset();
    auto s = MetadataStore::open(db_path_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
  }
  // A digest whose hex starts with `prefix` (the rest zeros).
  static Digest hexd(std::string prefix) {
    prefix.resize(64, '0');
    return Digest::from_hex(prefix).value();
  }
  static Digest d(std::string_view seed) { return sha256_of(seed); }
  // A minimal image commit: one layer per chain id, config + manifest blobs.
  static ImageCommit image(const Digest& id, std::vector<Digest> chain,
                           std::vector<std::string> tags = {}) {
    ImageCommit c;
    c.image.id = id;
    c.image.manifest = sha256_of("manifest of " + id.hex());
    c.image.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
    c.image.chain_ids = std::move(chain);
    c.blobs = {id, c.image.manifest};
    c.tags = std::move(tags);
    return c;
  }

  std::string dir_;
  std::string db_path_;
  std::unique_ptr<MetadataStore> store_;
};

}  // namespace berth::metadata
