// TCP, TLS with client verification, and curl as an independent peer.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "http/test_util.h"

namespace berth::http {
namespace {

using testing::TempDir;
using testing::UnixServer;

void echo(Request& req, Response& res) {
  std::string out = req.method() + " " + req.path() + " ";
  for (const auto& [k, v] : req.query()) out += k + "=" + v + ";";
  auto body = req.read_all_body(64 << 20);
  out += " " + std::to_string(body ? body->size() : 0) + " uid=" + std::to_string(req.peer_uid());
  (void)res.send(200, {{"Content-Type", "text/plain"}}, out);
}

TEST(Tcp, EphemeralPortOnLoopback) {
  auto s = Server::start({testing::listener("tcp://127.0.0.1:0")}, echo);
  ASSERT_TRUE(s) << s.error().message;
  std::string addr = (*s)->addresses().at(0);
  EXPECT_EQ(addr.rfind("tcp://127.0.0.1:", 0), 0u) << addr;
  EXPECT_NE(addr, "tcp://127.0.0.1:0");
  auto c = Client::create(testing::opts(addr));
  ASSERT_TRUE(c);
  for (int i = 0; i < 3; ++i) {
    ClientRequest req = testing::req("/p?x=%2F", "POST");
    req.body = "12345";
    auto r = (*c)->request(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "POST /p x=/; 5 uid=-1");
  }
  EXPECT_EQ((*s)->open_connections(), 1u);
}

// A CA, a server cert for 127.0.0.1 and a client cert, made with the
// openssl CLI (EC keys: fast).
struct Pki {
  TempDir dir;
  bool ok = false;
  std::string p(const char* name) const { return dir.path() + "/" + name; }
  Pki() {
    std::string cmd = "cd " + dir.path() +
                      " && { "
                      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                      "-keyout ca.key -out ca.pem -days 2 -subj /CN=berth-test-ca && "
                      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                      "-keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca && "
                      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                      "-keyout server.key -out server.csr -subj /CN=localhost && "
                      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n"
                      "extendedKeyUsage=serverAuth\\n' > server.ext && "
                      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                      "-out server.pem -days 2 -extfile server.ext && "
                      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                      "-keyout client.key -out client.csr -subj /CN=client && "
                      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
                      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                      "-out client.pem -days 2 -extfile client.ext && "
                      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                      "-keyout rogue.key -out rogue.csr -subj /CN=rogue && "
                      "openssl x509 -req -in rogue.csr -CA other-ca.pem -CAkey other-ca.key "
                      "-CAcreateserial -out rogue.pem -days 2 -extfile client.ext; "
                      "} >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
};

bool have_openssl() { return ::access("/usr/bin/openssl", X_OK) == 0; }

TEST(Tls, ClientCertificateRequired) {
  if (!have_openssl()) GTEST_SKIP() << "no /usr/bin/openssl";
  Pki pki;
  ASSERT_TRUE(pki.ok);
  Listener l = testing::listener("tcp://127.0.0.1:0");
  l.tls = TlsConfig{pki.p("server.pem"), pki.p("server.key"), pki.p("ca.pem")};
  auto s = Server::start({l}, [](Request& req, Response& res) {
    if (req.path() == "/hijack") {
      auto h = res.hijack();
      (void)res.send(h ? 200 : 501, {}, h ? "hijacked" : h.error().message);
      return;
    }
    if (req.path() == "/stream") {
      (void)res.begin_stream(200, {});
      (void)res.write("a");
      (void)res.write("b");
      (void)res.end();
      return;
    }
    echo(req, res);
  });
  ASSERT_TRUE(s) << s.error().message;
  std::string addr = (*s)->addresses().at(0);

  // Verified both ways.
  auto good = Client::create(
      testing::opts(addr, TlsConfig{pki.p("client.pem"), pki.p("client.key"), pki.p("ca.pem")}));
  ASSERT_TRUE(good) << good.error().message;
  auto r = (*good)->request(testing::req("/secure?a=1"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "GET /secure a=1; 0 uid=-1");
  r = (*good)->request(testing::req("/stream"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "ab");
  r = (*good)->request(testing::req("/hijack"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 501);
  EXPECT_NE(r->body.find("TLS"), std::string::npos);
  EXPECT_EQ((*s)->open_connections(), 1u);

  // No client certificate: refused.
  auto nocert = Client::create(testing::opts(addr, TlsConfig{"", "", pki.p("ca.pem")}));
  ASSERT_TRUE(nocert);
  EXPECT_FALSE((*nocert)->request(testing::req("/x")));
  // A certificate from another CA: refused.
  auto rogue = Client::create(
      testing::opts(addr, TlsConfig{pki.p("rogue.pem"), pki.p("rogue.key"), pki.p("ca.pem")}));
  ASSERT_TRUE(rogue);
  EXPECT_FALSE((*rogue)->request(testing::req("/x")));
  // The client does not trust a server it cannot verify.
  auto untrusting = Client::create(testing::opts(
      addr, TlsConfig{pki.p("client.pem"), pki.p("client.key"), pki.p("other-ca.pem")}));
  ASSERT_TRUE(untrusting);
  auto u = (*untrusting)->request(testing::req("/x"));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, Errc::Unavailable);
  // The https:// spelling of the same address.
  auto https = Client::create(
      testing::opts("https://" + addr.substr(6),
                    TlsConfig{pki.p("client.pem"), pki.p("client.key"), pki.p("ca.pem")}));
  ASSERT_TRUE(https);
  auto hr = (*https)->request(testing::req("/via-https"));
  ASSERT_TRUE(hr) << hr.error().message;
  EXPECT_EQ(hr->body, "GET /via-https  0 uid=-1");
  // Plain HTTP to a TLS port is not served.
  auto plain = Client::create(testing::opts(addr));
  ASSERT_TRUE(plain);
  auto pr = (*plain)->request(testing::req("/x"));
  EXPECT_TRUE(!pr || pr->status != 200);
  (*s)->stop();
}

TEST(Tls, BadCertificateFilesAreReported) {
  TempDir d;
  Listener l = testing::listener("tcp://127.0.0.1:0");
  l.tls = TlsConfig{d.path() + "/missing.pem", d.path() + "/missing.key", ""};
  auto s = Server::start({l}, echo);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("missing.pem"), std::string::npos) << s.error().message;
}

// curl as an independent HTTP implementation talking to the server.
std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

TEST(Curl, IndependentPeer) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  UnixServer s([](Request& req, Response& res) {
    if (req.path() == "/stream") {
      (void)res.begin_stream(200, {{"Content-Type", "application/json"}});
      for (int i = 0; i < 3; ++i) (void)res.write("{\"n\":" + std::to_string(i) + "}\n");
      (void)res.end();
      return;
    }
    echo(req, res);
  });
  std::string base = "/usr/bin/curl -sS --max-time 20 --unix-socket " + s.sock_path + " ";
  EXPECT_EQ(run(base + "'http://localhost/v1.47/images/json?all=1&filters=%7B%7D&q=a+b'"),
            "GET /v1.47/images/json all=1;filters={};q=a b; 0 uid=" + std::to_string(::getuid()));
  // Keep-alive across two URLs in one curl process.
  EXPECT_EQ(run(base + "http://localhost/a http://localhost/b"),
            "GET /a  0 uid=" + std::to_string(::getuid()) +
                "GET /b  0 uid=" + std::to_string(::getuid()));
  EXPECT_EQ(run(base + "http://localhost/stream"), "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
  TempDir d;
  std::string file = d.path() + "/body";
  {
    std::ofstream f(file, std::ios::binary);
    f << std::string(3 << 20, 'q');
  }
  // Chunked upload.
  EXPECT_EQ(run(base + "-H 'Transfer-Encoding: chunked' --data-binary @" + file +
                " http://localhost/images/load"),
            "POST /images/load  3145728 uid=" + std::to_string(::getuid()));
  // A large Content-Length body: curl sends "Expect: 100-continue" and waits for it.
  std::string verbose = run(base + "-v -H 'Expect: 100-continue' --data-binary @" + file +
                            " http://localhost/load 2>&1");
  EXPECT_NE(verbose.find("HTTP/1.1 100 Continue"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("POST /load  3145728 uid="), std::string::npos);
  // HEAD.
  std::string head = run(base + "-I http://localhost/_ping");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0u) << head;
}

}  // namespace
}  // namespace berth::http
