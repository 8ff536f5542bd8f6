#include "base/ascii.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Ascii, FoldsOnlyAsciiLetters) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("close", "closed"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5b vs 0x7b: not letters, not folded
  EXPECT_EQ(ascii_lower("WebSocket-42\xC3\x84"), "websocket-42\xC3\x84");
}

}  // namespace
}  // namespace berth
