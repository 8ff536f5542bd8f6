#include "api/client/held_error.h"

#include <gtest/gtest.h>

namespace berth::api::client {
namespace {

using Overflow = HeldErrorStream::Overflow;

bool json_first(std::string_view first) { return first[0] == '{'; }

struct Collect {
  std::string got;
  int calls = 0;
  ByteSink sink() {
    return [this](std::string_view d) -> Result<void> {
      got.append(d);
      ++calls;
      return ok();
    };
  }
};

http::ClientResponse answer(int status, std::string body = "") {
  http::ClientResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(HeldErrorStream, DataThatIsNoErrorBodyGoesStraightThrough) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Deliver);
  ASSERT_TRUE(s.on_chunk(std::string_view("\x01\x00", 2)));
  EXPECT_EQ(c.calls, 1) << "delivered as it came, not at the end";
  ASSERT_TRUE(s.on_chunk(""));
  ASSERT_TRUE(s.on_chunk("{later}"));
  auto r = s.finish(answer(200, "tail"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(c.got, std::string("\x01\x00{later}tail", 13));
  EXPECT_TRUE(r->body.empty());
}

TEST(HeldErrorStream, AFailedStatusReportsTheHeldBodyAndDeliversNothing) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Deliver);
  ASSERT_TRUE(s.on_chunk("{\"message\":\"No such "));
  ASSERT_TRUE(s.on_chunk("container: x\"}"));
  auto r = s.finish(answer(404));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_NE(r.error().message.find("No such container: x"), std::string::npos) << r.error().message;
  EXPECT_EQ(c.calls, 0);
}

TEST(HeldErrorStream, AHeldAnswerWithAGoodStatusIsDataAfterAll) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Deliver);
  ASSERT_TRUE(s.on_chunk("{\"a\":"));
  ASSERT_TRUE(s.on_chunk("1}"));
  EXPECT_EQ(c.calls, 0);
  auto r = s.finish(answer(200, "\n"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(c.got, "{\"a\":1}\n");
}

TEST(HeldErrorStream, DeliverModeHandsOnAHoldThatOutgrowsTheLimitInOrder) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Deliver);
  std::string first = "{" + std::string(HeldErrorStream::kLimit - 10, 'a');
  std::string second(20, 'b');
  ASSERT_TRUE(s.on_chunk(first));
  EXPECT_EQ(c.calls, 0);
  ASSERT_TRUE(s.on_chunk(second));
  EXPECT_EQ(c.got, first + second) << "past the limit, held and new bytes go out at once";
  ASSERT_TRUE(s.on_chunk("c"));
  ASSERT_TRUE(s.finish(answer(200)));
  EXPECT_EQ(c.got, first + second + "c");
}

TEST(HeldErrorStream, DropModeKeepsOnlyTheLimitOfAnErrorBody) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Drop);
  std::string big = "{\"message\":\"" + std::string(3 * HeldErrorStream::kLimit, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) ASSERT_TRUE(s.on_chunk(big.substr(i, 4096)));
  auto r = s.finish(answer(500));
  ASSERT_FALSE(r);
  EXPECT_LE(r.error().message.size(), HeldErrorStream::kLimit + 200);
  EXPECT_NE(r.error().message.find("xxxx"), std::string::npos) << r.error().message;
  EXPECT_EQ(c.calls, 0);
}

TEST(HeldErrorStream, DropModeOverflowUnderAGoodStatusIsAnError) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Drop);
  ASSERT_TRUE(s.on_chunk("{" + std::string(HeldErrorStream::kLimit, 'y')));
  auto r = s.finish(answer(200));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ran past"), std::string::npos) << r.error().message;
  EXPECT_EQ(c.calls, 0) << "a truncated answer is not handed on as if whole";
}

TEST(HeldErrorStream, TheSinksErrorWinsOverTheStatusAndTheTransport) {
  HeldErrorStream s(
      json_first,
      [](std::string_view) -> Result<void> { return make_error(Errc::Io, "disk full"); },
      Overflow::Deliver);
  EXPECT_FALSE(s.on_chunk("data"));
  auto r = s.finish(make_error(Errc::Cancelled, "connection closed"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "disk full");
}

TEST(HeldErrorStream, TheTransportsErrorComesThroughWhenTheSinkHadNone) {
  Collect c;
  HeldErrorStream s(json_first, c.sink(), Overflow::Deliver);
  ASSERT_TRUE(s.on_chunk("{\"message\":\"par"));
  auto r = s.finish(make_error(Errc::Io, "connection reset"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "connection reset");
  EXPECT_EQ(c.calls, 0);
}

}  // namespace
}  // namespace berth::api::client
