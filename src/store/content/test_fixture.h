// store/content/test_fixture.h — a temp directory with a ContentStore in it,
// for the unit tests of this module (removed even when a test fails).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "store/content/content_store.h"

namespace berth::content {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-content-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    auto s = ContentStore::open(dir_ + "/content");
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(::system(cmd.c_str()), 0);
  }
  std::unique_ptr<Ingest> must_ingest(std::string_view key) {
    auto r = store_->ingest(key);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.has_value() ? std::move(*r) : nullptr;
  }

  std::string dir_;
  std::unique_ptr<ContentStore> store_;
};

}  // namespace berth::content
