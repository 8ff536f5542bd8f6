#include "base/digest.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Digest, KnownVectors) {
  EXPECT_EQ(sha256_of("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.bytes(), 3u);
  EXPECT_EQ(h.finish().hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, ParseAcceptsOnlySha256Lowercase) {
  auto ok =
      Digest::parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->short_id(), "ba7816bf8f01");
  EXPECT_FALSE(Digest::parse("sha512:ab"));
  EXPECT_FALSE(Digest::parse("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_FALSE(
      Digest::parse("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_FALSE(Digest::parse("sha256:ba78"));
  EXPECT_NE(Digest::parse("sha256:../../etc").error().message.find("sha256:../../etc"),
            std::string::npos);
}

TEST(Digest, RandomIdsDiffer) {
  auto a = random_hex_id(), b = random_hex_id();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace berth
