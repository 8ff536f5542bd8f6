#include "oci/reference.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::oci {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kDig = "sha256:" + kHex;

struct Good {
  std::string in;
  std::string domain;
  std::string path;
  std::string tag;  // "" = none
  bool digest;
  std::string str;
  std::string familiar;
};

TEST(Reference, NormalizesLikeDocker) {
  const Good cases[] = {
      {"memos", "docker.io", "library/memos", "latest", false, "docker.io/library/memos:latest",
       "memos:latest"},
      {"memos:1.2", "docker.io", "library/memos", "1.2", false, "docker.io/library/memos:1.2",
       "memos:1.2"},
      {"yidadaa/chatgpt-next-web", "docker.io", "yidadaa/chatgpt-next-web", "latest", false,
       "docker.io/yidadaa/chatgpt-next-web:latest", "yidadaa/chatgpt-next-web:latest"},
      {"docker.io/library/busybox:1", "docker.io", "library/busybox", "1", false,
       "docker.io/library/busybox:1", "busybox:1"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", false,
       "docker.io/library/busybox:latest", "busybox:latest"},
      {"index.docker.io/x", "docker.io", "library/x", "latest", false, "docker.io/library/x:latest",
       "x:latest"},
      {"index.docker.io/a/b", "docker.io", "a/b", "latest", false, "docker.io/a/b:latest",
       "a/b:latest"},
      {"library/a/b", "docker.io", "library/a/b", "latest", false, "docker.io/library/a/b:latest",
       "library/a/b:latest"},
      {"localhost/x", "localhost", "x", "latest", false, "localhost/x:latest",
       "localhost/x:latest"},
      {"localhost:5000/a/b:c", "localhost:5000", "a/b", "c", false, "localhost:5000/a/b:c",
       "localhost:5000/a/b:c"},
      {"127.0.0.1:5000/repo", "127.0.0.1:5000", "repo", "latest", false,
       "127.0.0.1:5000/repo:latest", "127.0.0.1:5000/repo:latest"},
      {"quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", false,
       "quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0"},
      {"Registry.Example.COM/x", "Registry.Example.COM", "x", "latest", false,
       "Registry.Example.COM/x:latest", "Registry.Example.COM/x:latest"},
      {"[::1]:5000/x", "[::1]:5000", "x", "latest", false, "[::1]:5000/x:latest",
       "[::1]:5000/x:latest"},
      {"[fe80::1]/x:t", "[fe80::1]", "x", "t", false, "[fe80::1]/x:t", "[fe80::1]/x:t"},
      // Without '/', "localhost:5000" is a Hub name with a tag (docker's rule).
      {"localhost:5000", "docker.io", "library/localhost", "5000", false,
       "docker.io/library/localhost:5000", "localhost:5000"},
      {"a/b/c/d", "docker.io", "a/b/c/d", "latest", false, "docker.io/a/b/c/d:latest",
       "a/b/c/d:latest"},
      {"a.b-c.d---e/g", "a.b-c.d---e", "g", "latest", false, "a.b-c.d---e/g:latest",
       "a.b-c.d---e/g:latest"},
      {"x/a__b.c-d---e_f", "docker.io", "x/a__b.c-d---e_f", "latest", false,
       "docker.io/x/a__b.c-d---e_f:latest", "x/a__b.c-d---e_f:latest"},
      {"memos@" + kDig, "docker.io", "library/memos", "", true, "docker.io/library/memos@" + kDig,
       "memos@" + kDig},
      {"memos:1@" + kDig, "docker.io", "library/memos", "1", true,
       "docker.io/library/memos:1@" + kDig, "memos:1@" + kDig},
      {"localhost:5000/a/b@" + kDig, "localhost:5000", "a/b", "", true,
       "localhost:5000/a/b@" + kDig, "localhost:5000/a/b@" + kDig},
      {"x:_T.a-g", "docker.io", "library/x", "_T.a-g", false, "docker.io/library/x:_T.a-g",
       "x:_T.a-g"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = Reference::parse(c.in);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->domain(), c.domain);
    EXPECT_EQ(r->path(), c.path);
    EXPECT_EQ(r->tag().value_or(""), c.tag);
    EXPECT_EQ(r->digest().has_value(), c.digest);
    if (c.digest) {
      EXPECT_EQ(r->digest()->str(), kDig);
    }
    EXPECT_EQ(r->str(), c.str);
    EXPECT_EQ(r->familiar(), c.familiar);
    // The fully qualified form parses back to itself.
    auto again = Reference::parse(r->str());
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->str(), r->str());
  }
}

struct Bad {
  std::string in;
  std::string message;
};

TEST(Reference, RejectsBadInputWithDockersMessages) {
  const std::string fmt = "invalid reference format";
  const Bad cases[] = {
      {"", fmt + ": repository name must have at least one component"},
      {":tag", fmt + ": repository name must have at least one component"},
      {"Memos", fmt + ": repository name (library/Memos) must be lowercase"},
      {"docker.io/Memos", fmt + ": repository name (library/Memos) must be lowercase"},
      {"Foo/bar", fmt + ": repository name (Foo/bar) must be lowercase"},
      {"localhost:5000/A/b", fmt + ": repository name (A/b) must be lowercase"},
      {kHex, "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings"},
      {"memos:", fmt},
      {"memos:-x", fmt},
      {"memos:.x", fmt},
      {"memos:" + std::string(129, 'a'), fmt},
      {"memos:a b", fmt},
      {"me mos", fmt},
      {"-memos", fmt},
      {"memos-", fmt},
      {"memos.", fmt},
      {"a//b", fmt},
      {"a/b/", fmt},
      {"a___b", fmt},
      {"a._b", fmt},
      {"localhost:/x", fmt},
      {"localhost:port/x", fmt},
      {"a_b.com/x", fmt},
      {"-bad.com/x", fmt},
      {"bad-.com/x", fmt},
      {"a..b.com/x", fmt},
      {"[::1/x", fmt},
      {"[]/x", fmt},
      {"[::g]/x", fmt},
      {"[::1]x/y", fmt},
      {"memos@sha256:abc", fmt},
      {"memos@" + kDig + "x", fmt + ": invalid checksum digest format"},
      {"memos@sha512:" + kHex + kHex, fmt + ": unsupported digest algorithm \"sha512\""},
      {"memos@SHA256:" + kHex, fmt},
      {"memos@", fmt},
      {"memos@@" + kDig, fmt},
      {"a/" + std::string(254, 'b'),
       fmt + ": repository name must not be more than 255 characters"},
      {"x.io/", fmt + ": repository name must have at least one component"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = Reference::parse(c.in);
    ASSERT_FALSE(r) << r->str();
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(Reference, LengthLimitCountsDomainAndPath) {
  // docker.io/library/ (18) + 237 = 255: accepted; one more is refused.
  EXPECT_TRUE(Reference::parse(std::string(237, 'a')));
  EXPECT_FALSE(Reference::parse(std::string(238, 'a')));
}

TEST(Reference, DefaultTagCanBeOmitted) {
  auto r = Reference::parse("busybox", false);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->tag());
  EXPECT_EQ(r->str(), "docker.io/library/busybox");
  EXPECT_EQ(r->familiar(), "busybox");
}

TEST(Reference, DerivedReferences) {
  auto r = Reference::parse("localhost:5000/a/b:c@" + kDig);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name(), "localhost:5000/a/b");
  EXPECT_EQ(r->familiar_name(), "localhost:5000/a/b");
  EXPECT_EQ(r->with_tag("v2").str(), "localhost:5000/a/b:v2");
  auto d = Digest::parse(kDig);
  ASSERT_TRUE(d);
  EXPECT_EQ(r->with_digest(*d).str(), "localhost:5000/a/b@" + kDig);
  EXPECT_EQ(r->name_only().str(), "localhost:5000/a/b");
  EXPECT_FALSE(r->is_docker_hub());

  auto hub = Reference::parse("memos");
  ASSERT_TRUE(hub);
  EXPECT_TRUE(hub->is_docker_hub());
  EXPECT_EQ(hub->familiar_name(), "memos");
  EXPECT_EQ(*hub, *Reference::parse("docker.io/library/memos:latest"));
  EXPECT_FALSE(*hub == *Reference::parse("memos:2"));
}

TEST(Reference, TagSyntax) {
  EXPECT_TRUE(is_valid_tag("latest"));
  EXPECT_TRUE(is_valid_tag("_x"));
  EXPECT_TRUE(is_valid_tag("1.0-rc.1_B"));
  EXPECT_TRUE(is_valid_tag(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_tag(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_tag(""));
  EXPECT_FALSE(is_valid_tag("-x"));
  EXPECT_FALSE(is_valid_tag(".x"));
  EXPECT_FALSE(is_valid_tag("a:b"));
  EXPECT_FALSE(is_valid_tag("a/b"));
}

}  // namespace
}  // namespace berth::oci
