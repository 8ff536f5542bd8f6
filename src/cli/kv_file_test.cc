#include "cli/kv_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/test_temp_dir.h"

namespace berth::cli {
namespace {

struct KvFileTest : ::testing::Test {
  test::TempDir dir;
  std::string put(const std::string& content) {
    std::string p = dir.path() + "/f" + std::to_string(++n);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  int n = 0;
};

TEST_F(KvFileTest, LinesAsDockerReadsThem) {
  auto lookup = [](const std::string& k) -> std::optional<std::string> {
    if (k == "HOSTVAR") return std::string("from-host");
    return std::nullopt;
  };
  std::string p = put(
      "\xEF\xBB\xBF"
      "A=1\r\n# comment\n\n  \t B=two words \nHOSTVAR\nMISSING\nC==x\n   # indented comment\nD=");
  auto r = read_kv_file(p, lookup);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r,
            (std::vector<std::string>{"A=1", "B=two words ", "HOSTVAR=from-host", "C==x", "D="}));
  // Label files pass no lookup: a bare key is dropped.
  auto l = read_kv_file(put("team=core\nflag\n"), nullptr);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(*l, std::vector<std::string>{"team=core"});
}

TEST_F(KvFileTest, DockersMessages) {
  std::string p = put("ok=1\na b=1\n");
  EXPECT_EQ(read_kv_file(p, nullptr).error().message,
            "invalid env file (" + p + "): variable 'a b' contains whitespaces");
  p = put("=x\n");
  EXPECT_EQ(read_kv_file(p, nullptr).error().message,
            "invalid env file (" + p + "): no variable name on line '=x'");
  p = put("ok=1\n\xff\xfe=1\n");
  EXPECT_EQ(read_kv_file(p, nullptr).error().message,
            "invalid env file (" + p + "): invalid utf8 bytes at line 2: [255 254 61 49]");
  EXPECT_EQ(read_kv_file(dir.path(), nullptr).error().message,
            "invalid env file (" + dir.path() + "): read " + dir.path() + ": is a directory");
  auto missing = read_kv_file(dir.path() + "/nope", nullptr);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  EXPECT_EQ(missing.error().message, "open " + dir.path() + "/nope: no such file or directory");
}

TEST(ValidUtf8, AsGoDecides) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated at the end
}

}  // namespace
}  // namespace berth::cli
