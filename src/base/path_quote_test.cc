// go_quote, clean_abs_path and clean_rel_path (base/strings.h): the text
// docker shows and the path forms archive, build and cp rely on.
#include <gtest/gtest.h>

#include "base/strings.h"

namespace berth {
namespace {

TEST(GoQuote, EscapesLikeGosStrconvQuote) {
  EXPECT_EQ(go_quote("plain"), "\"plain\"");
  EXPECT_EQ(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(go_quote("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(go_quote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(go_quote(""), "\"\"");
}

TEST(CleanPath, AbsoluteNeverClimbsAboveRoot) {
  EXPECT_EQ(clean_abs_path("/a/./b/../c/"), "/a/c");
  EXPECT_EQ(clean_abs_path("/../../x"), "/x");
  EXPECT_EQ(clean_abs_path("//a//b"), "/a/b");
  EXPECT_EQ(clean_abs_path(""), "/");
  EXPECT_EQ(clean_abs_path("rel/x"), "/rel/x");
}

TEST(CleanPath, RelativeRefusesToClimbOut) {
  EXPECT_EQ(clean_rel_path("./a/../b"), std::optional<std::string>("b"));
  EXPECT_EQ(clean_rel_path("."), std::optional<std::string>(""));
  EXPECT_EQ(clean_rel_path("a/b/"), std::optional<std::string>("a/b"));
  EXPECT_EQ(clean_rel_path("../x"), std::nullopt);
  EXPECT_EQ(clean_rel_path("a/../../x"), std::nullopt);
}

}  // namespace
}  // namespace berth
