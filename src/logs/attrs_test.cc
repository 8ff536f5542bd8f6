#include <gtest/gtest.h>

#include "logs/decode_internal.h"
#include "logs/json_file.h"
#include "logs/test_util.h"

namespace berth::logs {
namespace {

TEST(Attrs, LabelsAndEnvLikeDockers) {
  std::map<std::string, std::string> labels = {
      {"app", "web"}, {"tier", "front"}, {"com.x.team", "a b"}};
  std::vector<std::string> env = {"PATH=/bin", "MODE=prod", "REGION=eu", "BROKEN"};
  auto a = log_attributes({{"labels", "app,nosuch"}, {"env", "MODE,NOSUCH"}}, labels, env);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, (std::map<std::string, std::string>{{"app", "web"}, {"MODE", "prod"}}));
  a = log_attributes({{"labels-regex", "^com\\."}, {"env-regex", "GION"}}, labels, env);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (std::map<std::string, std::string>{{"com.x.team", "a b"}, {"REGION", "eu"}}));
  EXPECT_TRUE(log_attributes({{"max-size", "1m"}}, labels, env)->empty());
  auto bad = log_attributes({{"env-regex", "("}}, labels, env);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_NE(bad.error().message.find("env-regex"), std::string::npos);
}

TEST(Attrs, WrittenAndReadBackForDetails) {
  testing::TempDir d;
  std::string p = d.path() + "/c-json.log";
  RotateOptions o;
  o.attrs = R"({"app":"web","note":"a b&c"})";
  auto w = Writer::open(p, o);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE((*w)->write(Stream::Stdout, "hi\n", 1796000214000000000).has_value());
  EXPECT_EQ(testing::slurp(p),
            R"({"log":"hi\n","stream":"stdout","attrs":{"app":"web","note":"a b&c"},)"
            R"("time":"2026-11-30T00:56:54Z"})"
            "\n");
  std::vector<Entry> got;
  ASSERT_TRUE(read(p, ReadOptions{}, [&](const Entry& e) -> Result<void> {
                got.push_back(e);
                return ok();
              }).has_value());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].line, "hi\n");
  // Go's url.QueryEscape of each key and value, keys in order.
  EXPECT_EQ(got[0].attrs, "app=web,note=a+b%26c");
  // A line without attrs after one with: the reused entry is cleared.
  Entry e;
  ASSERT_TRUE(decode_line(
      R"({"log":"x","stream":"stdout","attrs":{"k":"v"},"time":"2026-11-29T20:56:54Z"})", e));
  EXPECT_EQ(e.attrs, "k=v");
  ASSERT_TRUE(decode_line(R"({"log":"y","stream":"stdout","time":"2026-11-29T20:56:54Z"})", e));
  EXPECT_EQ(e.attrs, "");
}

}  // namespace
}  // namespace berth::logs
