// Streaming responses, client_gone, hijack/upgrade and stop() over a unix socket.
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/test_util.h"

namespace berth::http {
namespace {

using namespace std::chrono_literals;
using testing::recv_some;
using testing::send_all;
using testing::UnixServer;

// A flag with a bounded wait.
struct Signal {
  std::mutex mu;
  std::condition_variable cv;
  bool set = false;
  void notify() {
    std::lock_guard g(mu);
    set = true;
    cv.notify_all();
  }
  bool wait(std::chrono::milliseconds t = 10s) {
    std::unique_lock l(mu);
    return cv.wait_for(l, t, [&] { return set; });
  }
};

TEST(Stream, ClientSeesFirstChunkBeforeHandlerFinishes) {
  Signal got_first;
  std::atomic<bool> handler_timed_out{false};
  UnixServer s([&](Request&, Response& res) {
    ASSERT_TRUE(res.begin_stream(200, testing::json_headers()));
    ASSERT_TRUE(res.write("{\"status\":\"first\"}\n"));
    // Only continues once the client has seen chunk 1: an unflushed stream
    // would deadlock here until the bounded wait runs out.
    if (!got_first.wait()) handler_timed_out = true;
    ASSERT_TRUE(res.write("{\"status\":\"second\"}\n"));
    ASSERT_TRUE(res.end());
  });
  auto c = s.client();
  std::vector<std::string> chunks;
  ClientRequest req = testing::req("/images/create?fromImage=x", "POST");
  req.on_chunk = [&](std::string_view ch) -> Result<void> {
    chunks.emplace_back(ch);
    if (chunks.size() == 1) got_first.notify();
    return ok();
  };
  auto r = c->request(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(handler_timed_out.load());
  ASSERT_GE(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], "{\"status\":\"first\"}\n");
  std::string all;
  for (auto& ch : chunks) all += ch;
  EXPECT_EQ(all, "{\"status\":\"first\"}\n{\"status\":\"second\"}\n");
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->headers.find("Transfer-Encoding")->second, "chunked");
  // Same connection still usable after a stream.
  auto r2 = c->request(testing::req("/again"));
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(s.server->open_connections(), 1u);
}

TEST(Stream, UnfinishedStreamIsEndedForTheHandler) {
  UnixServer s([](Request&, Response& res) {
    (void)res.begin_stream(200, {});
    (void)res.write("partial");
  });
  auto r = s.client()->request(testing::req("/x"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "partial");
}

TEST(Stream, ClientGoneAfterDisconnect) {
  Signal wrote, done;
  std::atomic<bool> gone_before{true}, gone_after{false};
  UnixServer s([&](Request&, Response& res) {
    (void)res.begin_stream(200, {});
    (void)res.write("event\n");
    gone_before = res.client_gone();
    wrote.notify();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!res.client_gone() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    gone_after = res.client_gone();
    // Writing to a gone client fails with Cancelled (possibly after one
    // write lands in the socket buffer).
    Result<void> w;
    for (int i = 0; i < 100 && w; ++i) w = res.write(std::string(65536, 'x'));
    if (!w) {
      EXPECT_EQ(w.error().code, Errc::Cancelled);
    }
    done.notify();
  });
  {
    Fd fd = s.raw();
    send_all(fd.get(), "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got = recv_some(fd.get(), SIZE_MAX, 1s);
    EXPECT_NE(got.find("event"), std::string::npos);
    ASSERT_TRUE(wrote.wait());
  }  // closed
  ASSERT_TRUE(done.wait());
  EXPECT_FALSE(gone_before.load());
  EXPECT_TRUE(gone_after.load());
}

constexpr std::string_view kUpgraded =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

// docker attach style: 101 then an echo over the raw fd until EOF.
void hijack_echo(Request&, Response& res) {
  auto h = res.hijack();
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_TRUE(res.responded());
  send_all(h->fd.get(), kUpgraded);
  if (!h->buffered.empty()) send_all(h->fd.get(), "buffered:" + h->buffered + "\n");
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(h->fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    send_all(h->fd.get(), std::string_view(buf, static_cast<size_t>(n)));
  }
}

TEST(Hijack, UpgradeGetsRawEchoConnection) {
  UnixServer s(hijack_echo);
  auto c = s.client();
  ClientRequest req = testing::req("/containers/x/attach?stream=1&stdin=1&stdout=1", "POST");
  auto up = c->upgrade(req);
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->response.status, 101);
  EXPECT_EQ(up->response.headers.find("Upgrade")->second, "tcp");
  ASSERT_TRUE(up->fd.valid());
  std::string got = up->buffered;
  send_all(up->fd.get(), "hello over raw\n");
  got += recv_some(up->fd.get(), 15 - got.size());
  EXPECT_EQ(got, "hello over raw\n");
  ::shutdown(up->fd.get(), SHUT_WR);
  EXPECT_EQ(recv_some(up->fd.get(), SIZE_MAX, 5s), "");  // server closed after EOF
  // The client still works (new connection).
  auto err = c->request(testing::req("/x"));
  EXPECT_TRUE(err);
}

TEST(Hijack, BytesBufferedByTheParserAreHandedOver) {
  UnixServer s(hijack_echo);
  Fd fd = s.raw();
  send_all(fd.get(),
           "POST /attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
           "early-bytes");
  std::string want = std::string(kUpgraded) + "buffered:early-bytes\n";
  EXPECT_EQ(recv_some(fd.get(), want.size()), want);
}

TEST(Hijack, ErrorStatusIsNotAnUpgrade) {
  UnixServer s([](Request&, Response& res) {
    (void)res.send(404, testing::json_headers(), "{\"message\":\"No such container: x\"}");
  });
  auto up = s.client()->upgrade(testing::req("/attach", "POST"));
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(up->response.status, 404);
  EXPECT_EQ(up->response.body, "{\"message\":\"No such container: x\"}");
  EXPECT_FALSE(up->fd.valid());
}

TEST(LongPoll, BeginReturnsAtTheHeadersAndFinishReadsTheChunkedBody) {
  Signal headers_seen;
  UnixServer s([&](Request&, Response& res) {
    ASSERT_TRUE(res.begin_stream(200, testing::json_headers()));
    // The body comes only once the client has the headers: a begin() that
    // waited for the body would deadlock here until the bounded wait ends.
    // (The second exchange is abandoned by the client: its writes may fail.)
    headers_seen.wait();
    (void)res.write("{\"StatusCode\":");
    (void)res.write("7}\n");
    (void)res.end();
  });
  auto c = s.client();
  auto head = c->begin(testing::req("/containers/x/wait", "POST"));
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  headers_seen.notify();
  auto full = c->finish();
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body, "{\"StatusCode\":7}\n");  // chunk framing removed
  EXPECT_FALSE(c->finish());                      // nothing begun any more
  // The connection is usable again, and a begun exchange that is never
  // finished is abandoned by the next request.
  ASSERT_TRUE(c->begin(testing::req("/again", "POST")));
  headers_seen.notify();
  auto next = c->request(testing::req("/after", "GET"));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->status, 200);
}

TEST(Stop, ReturnsPromptlyWithBlockedConnections) {
  Signal in_handler;
  UnixServer s([&](Request& req, Response& res) {
    in_handler.notify();
    auto b = req.read_all_body();  // blocks: the client sends 10 of 100 bytes
    (void)res.send(b ? 200 : 400, {}, "");
  });
  Fd idle = s.raw();     // connected, sends nothing: blocked in read_header
  Fd partial = s.raw();  // half a header
  send_all(partial.get(), "GET / HTTP/1.1\r\nHo");
  Fd body = s.raw();  // inside the handler, blocked in read_body
  send_all(body.get(), "POST /load HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
  ASSERT_TRUE(in_handler.wait());
  for (int i = 0; i < 100 && s.server->open_connections() < 3; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(s.server->open_connections(), 3u);
  auto t0 = std::chrono::steady_clock::now();
  s.server->stop();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 2s);
  EXPECT_EQ(s.server->open_connections(), 0u);
  s.server.reset();  // destructor after stop: no double join
  // Clients see the connection end.
  EXPECT_EQ(recv_some(idle.get(), SIZE_MAX, 2s), "");
}

TEST(Stop, DestructorStopsAndNoThreadsLeak) {
  auto count_threads = [] {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
  };
  size_t before = count_threads();
  {
    UnixServer s([](Request&, Response& res) { (void)res.send(200, {}, "ok"); });
    std::vector<Fd> conns;
    for (int i = 0; i < 5; ++i) conns.push_back(s.raw());
    auto c = s.client();
    ASSERT_TRUE(c->request(testing::req("/")));
  }
  EXPECT_EQ(count_threads(), before);
}

}  // namespace
}  // namespace berth::http
