#include "base/errno_text.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace berth {
namespace {

TEST(ErrnoText, LowerCaseLikeGo) {
  EXPECT_EQ(go_errno_text(ENOENT), "no such file or directory");
  EXPECT_EQ(go_errno_text(EACCES), "permission denied");
  EXPECT_EQ(go_errno_text(ENOTDIR), "not a directory");
}

}  // namespace
}  // namespace berth
