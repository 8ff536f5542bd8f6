#include "build/ignore.h"

#include <gtest/gtest.h>

namespace berth::build {
namespace {

IgnoreMatcher m(std::string_view text) {
  auto r = IgnoreMatcher::parse(text);
  EXPECT_TRUE(r) << text << ": " << r.error().message;
  return r ? *r : IgnoreMatcher{};
}

std::string parse_err(std::string_view text) {
  auto r = IgnoreMatcher::parse(text);
  EXPECT_FALSE(r) << text;
  if (r) return "";
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  return r.error().message;
}

TEST(Ignore, EmptyExcludesNothing) {
  IgnoreMatcher none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.excluded("a"));
  EXPECT_FALSE(none.skip_dir("a"));
  IgnoreMatcher comments = m("# only a comment\n\n   \n");
  EXPECT_TRUE(comments.empty());
  EXPECT_FALSE(comments.excluded("# only a comment"));
}

TEST(Ignore, StarMatchesWithinOneComponent) {
  IgnoreMatcher i = m("*.log\n");
  EXPECT_TRUE(i.excluded("a.log"));
  EXPECT_TRUE(i.excluded(".log"));
  EXPECT_FALSE(i.excluded("dir/a.log"));  // `*` does not cross '/'
  EXPECT_FALSE(i.excluded("a.logx"));
  EXPECT_TRUE(i.excluded("x.log/inner"));  // below a matching directory

  IgnoreMatcher two = m("*/*.go\n");
  EXPECT_TRUE(two.excluded("a/b.go"));
  EXPECT_FALSE(two.excluded("b.go"));
  EXPECT_FALSE(two.excluded("a/b/c.go"));
}

TEST(Ignore, QuestionMarkAndClasses) {
  IgnoreMatcher q = m("temp?\n");
  EXPECT_TRUE(q.excluded("temp1"));
  EXPECT_FALSE(q.excluded("temp"));
  EXPECT_FALSE(q.excluded("temp12"));
  EXPECT_TRUE(q.excluded("tempa/b"));
  EXPECT_FALSE(m("a?b\n").excluded("a/b"));            // `?` is not '/'
  EXPECT_TRUE(m("?.txt\n").excluded("\xC3\xA9.txt"));  // one character, not one byte

  IgnoreMatcher c = m("[a-c]at\n[^x]og\n[\\]]z\nv[0-9][!]\n");
  EXPECT_TRUE(c.excluded("bat"));
  EXPECT_FALSE(c.excluded("dat"));
  EXPECT_TRUE(c.excluded("dog"));
  EXPECT_FALSE(c.excluded("xog"));
  EXPECT_TRUE(c.excluded("]z"));
  EXPECT_TRUE(c.excluded("v1!"));  // `!` inside brackets is a character, `^` negates
  EXPECT_FALSE(c.excluded("v1x"));
}

TEST(Ignore, DoubleStarCrossesComponents) {
  IgnoreMatcher all = m("**\n");
  EXPECT_TRUE(all.excluded("a"));
  EXPECT_TRUE(all.excluded("a/b/c"));

  IgnoreMatcher logs = m("**/*.log\n");
  EXPECT_TRUE(logs.excluded("a.log"));
  EXPECT_TRUE(logs.excluded("d/e/a.log"));
  EXPECT_FALSE(logs.excluded("d/a.logx"));

  IgnoreMatcher below = m("docs/**\n");
  EXPECT_TRUE(below.excluded("docs/a"));
  EXPECT_TRUE(below.excluded("docs/a/b"));
  EXPECT_FALSE(below.excluded("docs"));
  EXPECT_FALSE(below.excluded("docsx/a"));

  IgnoreMatcher nm = m("**/node_modules\n");
  EXPECT_TRUE(nm.excluded("node_modules"));
  EXPECT_TRUE(nm.excluded("a/b/node_modules"));
  EXPECT_TRUE(nm.excluded("a/node_modules/x/y"));
  EXPECT_FALSE(nm.excluded("a/xnode_modules"));

  IgnoreMatcher mid = m("a/**/b\n");
  EXPECT_TRUE(mid.excluded("a/b"));
  EXPECT_TRUE(mid.excluded("a/x/b"));
  EXPECT_TRUE(mid.excluded("a/x/y/b"));
  EXPECT_TRUE(mid.excluded("a/x/b/c"));
  EXPECT_FALSE(mid.excluded("a/xb"));
  EXPECT_FALSE(mid.excluded("b"));

  // A leading `**` before plain text is a suffix match, as in docker.
  IgnoreMatcher suffix = m("**foo\n");
  EXPECT_TRUE(suffix.excluded("xfoo"));
  EXPECT_TRUE(suffix.excluded("a/bfoo"));
  EXPECT_FALSE(suffix.excluded("foox"));
}

TEST(Ignore, PlainNamesAndParentDirectories) {
  IgnoreMatcher i = m("foo\nbar/baz\n");
  EXPECT_TRUE(i.excluded("foo"));
  EXPECT_TRUE(i.excluded("foo/bar"));
  EXPECT_TRUE(i.excluded("foo/bar/baz.txt"));
  EXPECT_FALSE(i.excluded("foobar"));
  EXPECT_FALSE(i.excluded("x/foo"));
  EXPECT_TRUE(i.excluded("bar/baz/q"));
  EXPECT_FALSE(i.excluded("bar"));
  EXPECT_FALSE(i.excluded("bar/bazq"));
}

TEST(Ignore, ExceptionsAndTheLastMatchDecides) {
  IgnoreMatcher i = m("*.md\n!README.md\n");
  EXPECT_TRUE(i.excluded("a.md"));
  EXPECT_FALSE(i.excluded("README.md"));
  EXPECT_TRUE(m("*.md\n!README.md\nREADME*\n").excluded("README.md"));
  EXPECT_TRUE(m("!README.md\n*.md\n").excluded("README.md"));

  IgnoreMatcher docs = m("docs\n! docs/keep.md\n");
  EXPECT_TRUE(docs.excluded("docs"));
  EXPECT_TRUE(docs.excluded("docs/a"));
  EXPECT_FALSE(docs.excluded("docs/keep.md"));
  EXPECT_FALSE(docs.excluded("other"));

  // An exception for a directory re-includes what is below it.
  IgnoreMatcher dir = m("*\n!src\n");
  EXPECT_TRUE(dir.excluded("Makefile"));
  EXPECT_FALSE(dir.excluded("src"));
  EXPECT_FALSE(dir.excluded("src/main.c"));
}

TEST(Ignore, LinesAreCleaned) {
  IgnoreMatcher i =
      m("\xEF\xBB\xBF# comment after a BOM\n"
        "  spaced.txt  \r\n"
        " #hash\n"  // only a '#' in the first column starts a comment
        "./dot\n"
        "/rooted\n"
        "trail/\n"
        "a//b/./c/../d\n"
        "../outside\n");
  EXPECT_FALSE(i.excluded("# comment after a BOM"));
  EXPECT_TRUE(i.excluded("spaced.txt"));
  EXPECT_TRUE(i.excluded("#hash"));
  EXPECT_TRUE(i.excluded("dot"));
  EXPECT_TRUE(i.excluded("rooted"));
  EXPECT_TRUE(i.excluded("trail"));
  EXPECT_TRUE(i.excluded("a/b/d"));
  EXPECT_FALSE(i.excluded("a/b/c"));
  EXPECT_FALSE(i.excluded("outside"));
}

TEST(Ignore, EscapesAreLiteral) {
  IgnoreMatcher i = m("\\*x\nq\\?\n");
  EXPECT_TRUE(i.excluded("*x"));
  EXPECT_FALSE(i.excluded("ax"));
  EXPECT_TRUE(i.excluded("q?"));
  EXPECT_FALSE(i.excluded("qa"));
}

TEST(Ignore, MalformedPatterns) {
  EXPECT_EQ(parse_err("ok\n[a\n"), "invalid .dockerignore pattern \"[a\" on line 2");
  EXPECT_EQ(parse_err("!\n"), "invalid .dockerignore pattern \"!\" on line 1");
  EXPECT_EQ(parse_err("# c\n  ! \n"), "invalid .dockerignore pattern \"!\" on line 2");
  EXPECT_EQ(parse_err("a\\\n"), "invalid .dockerignore pattern \"a\\\\\" on line 1");
  EXPECT_EQ(parse_err("!x[]a]\n"), "invalid .dockerignore pattern \"!x[]a]\" on line 1");
  EXPECT_FALSE(IgnoreMatcher::parse("[a-]\n"));
  EXPECT_FALSE(IgnoreMatcher::parse("[-a]\n"));
  EXPECT_FALSE(IgnoreMatcher::parse("[^]\n"));
  EXPECT_FALSE(IgnoreMatcher::parse("[a\\\n"));
  EXPECT_TRUE(IgnoreMatcher::parse("a]\n"));  // a lone ']' is a character
}

TEST(Ignore, SkipDir) {
  EXPECT_TRUE(m("node_modules\n").skip_dir("node_modules"));
  EXPECT_TRUE(m("**/node_modules\n").skip_dir("a/node_modules"));
  // Not excluded at all: a walker must go in.
  EXPECT_FALSE(m("node_modules\n").skip_dir("src"));
  EXPECT_FALSE(m("*\n!src\n").skip_dir("src"));

  IgnoreMatcher keep = m("docs\n!docs/keep.md\n");
  EXPECT_FALSE(keep.skip_dir("docs"));
  // An exception below another directory, or before the excluding pattern,
  // cannot bring anything back.
  EXPECT_TRUE(m("build\n!src/keep\n").skip_dir("build"));
  EXPECT_TRUE(m("!build/keep\nbuild\n").skip_dir("build"));
  EXPECT_TRUE(m("build\n!build/keep\nbuild\n").skip_dir("build"));
  // A wildcard exception that could match below the directory keeps it.
  EXPECT_FALSE(m("build\n!*/keep\n").skip_dir("build"));
  EXPECT_FALSE(m("**/*.tmp\n!**/keep.tmp\n").skip_dir("x.tmp"));
  EXPECT_FALSE(m("*\n!**/*.go\n").skip_dir("dir"));
  // `*` stops at '/', so `!*.go` re-includes only top-level files.
  EXPECT_TRUE(m("*\n!*.go\n").skip_dir("dir"));
  // Deeper directories excluded through a parent.
  IgnoreMatcher ab = m("a/b\n!a/b/c\n");
  EXPECT_FALSE(ab.skip_dir("a/b"));
  EXPECT_TRUE(ab.skip_dir("a/b/d"));
  EXPECT_FALSE(ab.skip_dir("a/b/c"));  // re-included, not excluded
}

// skip_dir's promise, checked by brute force: when it says a directory may
// be skipped, no path below it is sent.
TEST(Ignore, SkipDirNeverHidesAnIncludedPath) {
  const char* pattern_sets[] = {
      "build\n!build/keep\n", "build\n!*/keep\n",    "*\n!*.go\n",   "*\n!**/*.go\n",
      "a\n!a/b/c\n",          "**/tmp\n!**/tmp/x\n", "a/**\n!a/b\n", "*/\n!a/[bc]\n",
      "a\n!a?/b\n",           "!a/b\na\n",           "a\n!a\na/b\n", "**/*.o\n!**/keep.o\n",
      "x*\n!x/**/y\n",        "a/b\n!a/*/c\n",
  };
  const char* paths[] = {
      "a",     "a/b",        "a/b/c",      "a/b/c/d",   "a/c",   "a/x/c",    "ab/b",
      "build", "build/keep", "build/x",    "build/x/y", "dir",   "dir/m.go", "dir/x",
      "tmp",   "q/tmp",      "q/tmp/x",    "q/tmp/y",   "x",     "x/y",      "x/z/y",
      "xa/y",  "k.o",        "k.o/keep.o", "d/keep.o",  "d/e.o",
  };
  for (const char* text : pattern_sets) {
    IgnoreMatcher i = m(text);
    for (const char* dir : paths) {
      if (!i.skip_dir(dir)) continue;
      EXPECT_TRUE(i.excluded(dir)) << text << " skip " << dir;
      std::string prefix = std::string(dir) + "/";
      for (const char* p : paths) {
        if (std::string_view(p).substr(0, prefix.size()) == prefix) {
          EXPECT_TRUE(i.excluded(p)) << text << " skip " << dir << " but keeps " << p;
        }
      }
    }
  }
}

}  // namespace
}  // namespace berth::build
