// Request parsing, keep-alive, limits and error handling over a unix socket.
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "http/test_util.h"
#include "http/url.h"

namespace berth::http {
namespace {

using testing::recv_some;
using testing::send_all;
using testing::UnixServer;

TEST(Url, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("%2f%2F", false), "//");
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("ab%4", false));
  EXPECT_FALSE(percent_decode("%zz", false));
}

TEST(Url, ParseQueryLikeGo) {
  auto q =
      parse_query("all=1&filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D&&x&b=a+b&bad=%zz&all=0");
  std::vector<std::pair<std::string, std::string>> want = {{"all", "1"},
                                                           {"filters", "{\"dangling\":[\"true\"]}"},
                                                           {"x", ""},
                                                           {"b", "a b"},
                                                           {"all", "0"}};
  EXPECT_EQ(q, want);
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_EQ(parse_query("a=b=c"), (decltype(q){{"a", "b=c"}}));
}

TEST(Url, SplitTarget) {
  auto t = split_target("/v1.47/images/my%2Fimage/json?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/v1.47/images/my/image/json");
  EXPECT_EQ(t->raw_query, "x=1");
  auto a = split_target("http://docker/_ping");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->path, "/_ping");
  EXPECT_FALSE(split_target("/bad%2"));
}

TEST(Url, Encode) {
  EXPECT_EQ(url_encode("a b/c?d=e&f~_.-"), "a%20b%2Fc%3Fd%3De%26f~_.-");
  EXPECT_EQ(percent_decode(url_encode("{\"x\":[\"ü\"]}"), true), "{\"x\":[\"ü\"]}");
}

TEST(Headers, CaseInsensitive) {
  Headers h{{"Content-Type", "a"}};
  EXPECT_NE(h.find("content-type"), h.end());
  EXPECT_NE(h.find("CONTENT-TYPE"), h.end());
  EXPECT_EQ(h.find("content-typ"), h.end());
}

// Echoes what it parsed as "method path k=v;k=v body".
void echo(Request& req, Response& res) {
  std::string out = req.method() + " " + req.path() + " ";
  for (const auto& [k, v] : req.query()) out += k + "=" + v + ";";
  auto body = req.read_all_body();
  out += " " + (body ? *body : "ERR");
  Headers h{{"Content-Type", "text/plain"},
            {"X-Peer-Uid", std::to_string(req.peer_uid())},
            {"X-Ua", req.header("user-agent").value_or("-")}};
  (void)res.send(200, h, out);
}

TEST(Server, RoundTripOverUnixSocket) {
  UnixServer s(echo);
  ASSERT_TRUE(s.server);
  EXPECT_EQ(s.server->addresses(), std::vector<std::string>{s.address});
  struct stat st;
  ASSERT_EQ(::stat(s.sock_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ASSERT_EQ(::stat((s.dir.path() + "/s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto c = s.client();
  ClientRequest get;
  get.target = "/v1.47/images/a%2Fb/json?all=1&name=x+y&f=%7B%7D";
  get.headers.emplace("User-Agent", "test/1");
  auto r = c->request(get);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /v1.47/images/a/b/json all=1;name=x y;f={}; ");
  EXPECT_EQ(r->headers.find("x-peer-uid")->second, std::to_string(::getuid()));
  EXPECT_EQ(r->headers.find("X-UA")->second, "test/1");
  EXPECT_NE(r->headers.find("Date"), r->headers.end());

  ClientRequest post;
  post.method = "POST";
  post.target = "/images/load";
  post.body = std::string(100000, 'z');
  r = c->request(post);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "POST /images/load  " + std::string(100000, 'z'));

  ClientRequest head;
  head.method = "HEAD";
  head.target = "/_ping";
  r = c->request(head);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->headers.find("Content-Length")->second, "13");  // "HEAD /_ping  "
  s.server->stop();
  EXPECT_NE(::lstat(s.sock_path.c_str(), &st), 0) << "socket file removed on stop";
}

TEST(Server, StaleSocketReplacedOtherFileRefused) {
  testing::TempDir d;
  std::string path = d.path() + "/x.sock";
  {
    // What a crashed daemon leaves: a bound socket file nobody listens on.
    Fd raw(::socket(AF_UNIX, SOCK_STREAM, 0));
    struct sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(raw.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  auto s2 = Server::start({testing::listener("unix://" + path)}, echo);
  ASSERT_TRUE(s2) << s2.error().message;
  (*s2)->stop();
  std::ofstream(d.path() + "/file") << "x";
  auto s3 = Server::start({testing::listener("unix://" + d.path() + "/file")}, echo);
  ASSERT_FALSE(s3);
  EXPECT_EQ(s3.error().code, Errc::AlreadyExists);
}

TEST(Server, KeepAliveReusesOneConnectionAndThread) {
  std::mutex mu;
  std::set<std::thread::id> threads;
  UnixServer s([&](Request&, Response& res) {
    {
      std::lock_guard g(mu);
      threads.insert(std::this_thread::get_id());
    }
    (void)res.send(200, {}, "OK");
  });
  auto c = s.client();
  const int n = 2000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = c->request(testing::req("/_ping"));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->body, "OK");
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ bench    ] %d keep-alive GET /_ping in %.3f s: %.0f req/s\n", n, secs, n / secs);
  EXPECT_EQ(threads.size(), 1u) << "one thread per connection, not per request";
  EXPECT_EQ(s.server->open_connections(), 1u);
}

TEST(Server, ReconnectsWhenServerClosedIdleConnection) {
  std::atomic<int> count{0};
  UnixServer s([&](Request&, Response& res) {
    int i = ++count;
    Headers h;
    if (i == 1) h.emplace("Connection", "close");  // server closes after this one
    (void)res.send(200, h, std::to_string(i));
  });
  auto c = s.client();
  for (int i = 1; i <= 3; ++i) {
    auto r = c->request(testing::req("/x"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, std::to_string(i));
  }
}

TEST(Server, HeaderOver64KiBGets431) {
  UnixServer s(echo);
  Fd fd = s.raw();
  std::string req =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
  send_all(fd.get(), req);
  std::string resp = recv_some(fd.get());
  EXPECT_EQ(resp.rfind("HTTP/1.1 431 ", 0), 0u) << resp.substr(0, 100);
}

TEST(Server, MalformedRequestGets400AndClose) {
  UnixServer s(echo);
  Fd fd = s.raw();
  send_all(fd.get(), "GARBAGE\r\n\r\n");
  std::string resp = recv_some(fd.get());
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
  Fd fd2 = s.raw();
  send_all(fd2.get(), "GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  resp = recv_some(fd2.get());
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
}

TEST(Server, HandlerWithoutResponseGets500) {
  UnixServer s([](Request&, Response&) {});
  auto r = s.client()->request(testing::req("/x"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("message"), std::string::npos);
}

TEST(Server, UnreadBodyIsDrainedBeforeNextRequest) {
  std::atomic<int> count{0};
  UnixServer s([&](Request& req, Response& res) {
    ++count;
    (void)res.send(200, {}, req.path());  // body never read
  });
  auto c = s.client();
  for (int i = 0; i < 3; ++i) {
    ClientRequest p = testing::req("/p" + std::to_string(i), "POST");
    p.body = std::string(10000, 'b');
    auto r = c->request(p);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "/p" + std::to_string(i));
  }
  // Chunked body left unread as well.
  ClientRequest p = testing::req("/chunked", "POST");
  int left = 3;
  p.body_source = [&]() -> Result<std::string> {
    return left-- > 0 ? std::string(5000, 'c') : std::string();
  };
  auto r = c->request(p);
  ASSERT_TRUE(r) << r.error().message;
  r = c->request(testing::req("/after"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "/after");
  EXPECT_EQ(s.server->open_connections(), 1u);
}

TEST(Server, ReadAllBodyLimit) {
  UnixServer s([](Request& req, Response& res) {
    auto b = req.read_all_body(1000);
    if (!b) {
      (void)res.send(413, {}, b.error().message);
      return;
    }
    (void)res.send(200, {}, *b);
  });
  auto c = s.client();
  ClientRequest p = testing::req("/x", "POST");
  p.body = std::string(5000, 'x');
  auto r = c->request(p);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("1000"), std::string::npos);
  p.body = "small";
  r = c->request(p);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "small");
}

long vm_hwm_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST(Server, ChunkedUpload50MBReadInBoundedChunks) {
  std::atomic<size_t> total{0}, max_chunk{0}, chunks{0};
  std::atomic<unsigned> sum{0};
  UnixServer s([&](Request& req, Response& res) {
    unsigned local = 0;
    for (;;) {
      auto c = req.read_body();
      if (!c) {
        (void)res.send(500, {}, c.error().message);
        return;
      }
      if (c->empty()) break;
      total += c->size();
      ++chunks;
      if (c->size() > max_chunk) max_chunk = c->size();
      for (unsigned char ch : *c) local = local * 31 + ch;
    }
    sum = local;
    (void)res.send(200, {}, std::to_string(total.load()));
  });
  auto c = s.client();
  const size_t piece = 1 << 20, pieces = 50;
  std::string block(piece, '\0');
  for (size_t i = 0; i < piece; ++i) block[i] = static_cast<char>(i * 7);
  unsigned want = 0;
  for (size_t p = 0; p < pieces; ++p)
    for (unsigned char ch : block) want = want * 31 + ch;
  long hwm_before = vm_hwm_kib();
  size_t sent = 0;
  ClientRequest req = testing::req("/images/load", "POST");
  req.body_source = [&]() -> Result<std::string> {
    if (sent == pieces) return std::string();
    ++sent;
    return block;
  };
  auto r = c->request(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::to_string(piece * pieces));
  EXPECT_EQ(total.load(), piece * pieces);
  EXPECT_EQ(sum.load(), want);
  EXPECT_LE(max_chunk.load(), 64u * 1024);
  EXPECT_GT(chunks.load(), 50u);
  long grown = vm_hwm_kib() - hwm_before;
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine keeps freed chunks resident
  EXPECT_LT(grown, 20 * 1024) << "peak RSS grew by " << grown << " KiB for a 50 MB body";
#endif
}

TEST(Server, EarlyErrorToALargeUploadReachesTheClient) {
  UnixServer s([](Request&, Response& res) {
    (void)res.send(413, testing::json_headers(), "{\"message\":\"too large\"}");
  });
  auto c = s.client();
  std::string block(1 << 20, 'u');
  int left = 50;
  ClientRequest req = testing::req("/images/load", "POST");
  req.body_source = [&]() -> Result<std::string> { return left-- > 0 ? block : std::string(); };
  auto r = c->request(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "{\"message\":\"too large\"}");
  EXPECT_GT(left, 0) << "the upload stopped early";
  r = c->request(testing::req("/next"));
  ASSERT_TRUE(r) << r.error().message;
}

TEST(Server, InheritedFdListener) {
  testing::TempDir d;
  std::string path = d.path() + "/inherited.sock";
  Fd lfd(::socket(AF_UNIX, SOCK_STREAM, 0));
  struct sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(lfd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd.get(), 8), 0);
  std::string fd_addr = "fd://" + std::to_string(lfd.release());  // the server owns it now
  auto s = Server::start({testing::listener(fd_addr)}, echo);
  ASSERT_TRUE(s) << s.error().message;
  auto c = Client::create(testing::opts("unix://" + path));
  ASSERT_TRUE(c);
  auto r = (*c)->request(testing::req("/fd"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "GET /fd  ");
  (*s)->stop();
  EXPECT_FALSE(Server::start({testing::listener("fd://0")}, echo));  // not a socket
  EXPECT_FALSE(Server::start({testing::listener("http://x")}, echo));
}

TEST(Client, ConnectErrorMessage) {
  testing::TempDir d;
  std::string addr = "unix://" + d.path() + "/none.sock";
  auto c = Client::create(testing::opts(addr));
  ASSERT_TRUE(c);
  auto r = (*c)->request(testing::req("/_ping"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unavailable);
  EXPECT_EQ(r.error().message, "Cannot connect to the berth daemon at " + addr +
                                   ": No such file or directory. Is the berth daemon running?");
  EXPECT_FALSE(Client::create(testing::opts("ftp://x")));
}

TEST(Client, BodyShorterThanItsContentLengthIsAnError) {
  // A server that announces 100 000 bytes, sends 5 and closes: the body is
  // read into a buffer sized from Content-Length, and the short read must
  // still be an error, not a short body.
  testing::TempDir d;
  std::string path = d.path() + "/raw.sock";
  int l = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(l, 0);
  struct sockaddr_un a {};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(l, 1), 0);
  std::thread srv([l] {
    int c = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char buf[4096];
    [[maybe_unused]] auto n = ::read(c, buf, sizeof buf);
    const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nshort";
    [[maybe_unused]] auto w = ::write(c, resp, sizeof resp - 1);
    ::close(c);
  });
  auto c = Client::create(testing::opts("unix://" + path));
  ASSERT_TRUE(c);
  auto r = (*c)->request(testing::req("/x"));
  srv.join();
  ::close(l);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("reading response body"), std::string::npos)
      << r.error().message;
}

TEST(Client, Timeout) {
  UnixServer s([](Request&, Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    (void)res.send(200, {}, "late");
  });
  auto c = Client::create(testing::opts(s.address, std::nullopt, 1));
  ASSERT_TRUE(c);
  auto r = (*c)->request(testing::req("/slow"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::DeadlineExceeded);
}

}  // namespace
}  // namespace berth::http
