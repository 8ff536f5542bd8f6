#include "base/result.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file.h"
#include "base/json.h"
#include "base/strings.h"

namespace berth {
namespace {

Result<int> half(int x) {
  if (x % 2) return make_error(Errc::InvalidArgument, "{} is odd", x);
  return x / 2;
}

Result<int> quarter(int x) {
  int h = BERTH_TRY(half(x));
  return BERTH_TRY_CTX(half(h), "second half");
}

TEST(Result, PropagatesAndPrefixesContext) {
  EXPECT_EQ(quarter(8).value(), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "second half: 3 is odd");
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
}

TEST(Result, VoidAndTransforms) {
  Result<void> ok_r;
  EXPECT_TRUE(ok_r.has_value());
  Result<void> bad = make_error(Errc::NotFound, "gone");
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(half(4).transform([](int v) { return v * 10; }).value(), 20);
  EXPECT_EQ(half(3).value_or(-1), -1);
}

TEST(Result, SysErrorMapsErrno) {
  auto e = sys_error("open x", ENOENT);
  EXPECT_EQ(e.code, Errc::NotFound);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_NE(e.message.find("No such file"), std::string::npos);
}

TEST(Json, ParseErrorIsValueNotException) {
  auto r = parse_json("{\"a\": [1,2,", "config.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("config.json: invalid JSON"), std::string::npos);
  EXPECT_TRUE(parse_json("{\"a\": 1}", "x").has_value());
}

TEST(Strings, SplitAndParse) {
  EXPECT_EQ(split("a:b::c", ':').size(), 4u);
  EXPECT_EQ(split("a:b::c", ':', true).size(), 3u);
  EXPECT_EQ(parse_int("-12").value(), -12);
  EXPECT_FALSE(parse_int("12x").has_value());
  EXPECT_FALSE(parse_uint("").has_value());
  EXPECT_EQ(trim("  x \n"), "x");
}

TEST(File, AtomicWriteReplacesAndLeavesNoTemp) {
  char dir[] = "/tmp/berth-file-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string p = std::string(dir) + "/f";
  ASSERT_TRUE(write_file_atomic(p, "one").has_value());
  ASSERT_TRUE(write_file_atomic(p, "two").has_value());
  EXPECT_EQ(read_file(p).value(), "two");
  EXPECT_EQ(read_file(std::string(dir) + "/missing").error().code, Errc::NotFound);
  unlink(p.c_str());
  EXPECT_EQ(rmdir(dir), 0);  // fails if a temp file was left behind
}

TEST(File, NewFileIsCreatedOnlyWhereNoneIs) {
  char dir[] = "/tmp/berth-file-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string p = std::string(dir) + "/f";
  ASSERT_TRUE(write_new_file(p, "one", 0600).has_value());
  EXPECT_EQ(read_file(p).value(), "one");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = write_new_file(p, "two");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().sys_errno, EEXIST);
  EXPECT_EQ(read_file(p).value(), "one") << "an existing file is left as it was";
  EXPECT_FALSE(write_new_file(std::string(dir) + "/no/such/dir", "x").has_value());
  unlink(p.c_str());
  EXPECT_EQ(rmdir(dir), 0);  // nothing else was left behind
}

}  // namespace
}  // namespace berth
