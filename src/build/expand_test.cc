#include "build/expand.h"

#include <gtest/gtest.h>

namespace berth::build {
namespace {

using V = std::vector<std::string>;

const Lookup& env() {
  static const Lookup kEnv = lookup_env({"A=a", "EMPTY=", "SP=x  y", "DUP=1", "DUP=2", "NOEQ",
                                         "PORTS=80 443", "P=/usr/local/bin/tool.tar.gz", "W=a*b*c",
                                         "U=\xC3\xA9"
                                         "1\xC3\xA9"});
  return kEnv;
}

std::string x(std::string_view word, char escape = '\\') {
  auto r = expand_word(word, env(), escape);
  EXPECT_TRUE(r) << word << ": " << r.error().message;
  return r ? *r : "<error>";
}

std::string err(std::string_view word) {
  auto r = expand_word(word, env());
  EXPECT_FALSE(r) << word << " gave " << *r;
  if (r) return "";
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  return r.error().message;
}

V words(std::string_view line) {
  auto r = expand_words(line, env());
  EXPECT_TRUE(r) << line << ": " << r.error().message;
  return r ? *r : V{"<error>"};
}

TEST(Expand, PlainAndBracedNames) {
  EXPECT_EQ(x("$A"), "a");
  EXPECT_EQ(x("${A}"), "a");
  EXPECT_EQ(x("pre${A}post"), "preapost");
  EXPECT_EQ(x("$A$A/$A"), "aa/a");
  EXPECT_EQ(x("$Ab"), "");  // the name is "Ab"
  EXPECT_EQ(x("${A}b"), "ab");
  EXPECT_EQ(x("$A_1"), "");
  EXPECT_EQ(x("$NOPE"), "");
  EXPECT_EQ(x("${NOPE}"), "");
  EXPECT_EQ(x("a  b"), "a  b");  // spaces stay
  EXPECT_EQ(x("$SP"), "x  y");
  EXPECT_EQ(x(""), "");
}

TEST(Expand, DollarWithoutName) {
  EXPECT_EQ(x("$"), "$");
  EXPECT_EQ(x("a$"), "a$");
  EXPECT_EQ(x("$/x"), "$/x");
  EXPECT_EQ(x("$ x"), "$ x");
  EXPECT_EQ(x("cost: 5$."), "cost: 5$.");
  // Positional and special parameters are names, unset in a build.
  EXPECT_EQ(x("$1"), "");
  EXPECT_EQ(x("a$12b"), "ab");
  EXPECT_EQ(x("a$$b"), "ab");
  EXPECT_EQ(x("$@$*$#$?$-$!"), "");
}

TEST(Expand, DefaultAndAlternative) {
  EXPECT_EQ(x("${A:-d}"), "a");
  EXPECT_EQ(x("${EMPTY:-d}"), "d");
  EXPECT_EQ(x("${NOPE:-d}"), "d");
  EXPECT_EQ(x("${A-d}"), "a");
  EXPECT_EQ(x("${EMPTY-d}"), "");
  EXPECT_EQ(x("${NOPE-d}"), "d");

  EXPECT_EQ(x("${A:+r}"), "r");
  EXPECT_EQ(x("${EMPTY:+r}"), "");
  EXPECT_EQ(x("${NOPE:+r}"), "");
  EXPECT_EQ(x("${A+r}"), "r");
  EXPECT_EQ(x("${EMPTY+r}"), "r");
  EXPECT_EQ(x("${NOPE+r}"), "");

  // The word is itself processed: expansions, quotes, escapes.
  EXPECT_EQ(x("${NOPE:-${A}x}"), "ax");
  EXPECT_EQ(x("${NOPE:-\"q  w\"}"), "q  w");
  EXPECT_EQ(x("${NOPE:-'$A'}"), "$A");
  EXPECT_EQ(x("${NOPE:-a\\}b}"), "a}b");
  EXPECT_EQ(x("${NOPE:-}"), "");
}

TEST(Expand, Required) {
  EXPECT_EQ(x("${A:?msg}"), "a");
  EXPECT_EQ(x("${A?msg}"), "a");
  EXPECT_EQ(x("${EMPTY?msg}"), "");
  EXPECT_EQ(err("${EMPTY:?must be set}"),
            "failed to process \"${EMPTY:?must be set}\": EMPTY: must be set");
  EXPECT_EQ(err("${EMPTY:?}"),
            "failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty");
  EXPECT_EQ(err("${NOPE:?}"), "failed to process \"${NOPE:?}\": NOPE: is not allowed to be unset");
  EXPECT_EQ(err("x${NOPE?oops}"), "failed to process \"x${NOPE?oops}\": NOPE: oops");
}

TEST(Expand, PatternRemovalAndReplacement) {
  EXPECT_EQ(x("${P#*/}"), "usr/local/bin/tool.tar.gz");
  EXPECT_EQ(x("${P##*/}"), "tool.tar.gz");
  EXPECT_EQ(x("${P%.*}"), "/usr/local/bin/tool.tar");
  EXPECT_EQ(x("${P%%.*}"), "/usr/local/bin/tool");
  EXPECT_EQ(x("${P#nomatch}"), "/usr/local/bin/tool.tar.gz");
  EXPECT_EQ(x("${P%/usr}"), "/usr/local/bin/tool.tar.gz");
  EXPECT_EQ(x("${P/local/share}"), "/usr/share/bin/tool.tar.gz");
  EXPECT_EQ(x("${P//o/0}"), "/usr/l0cal/bin/t00l.tar.gz");
  EXPECT_EQ(x("${P/?sr/X}"), "/X/local/bin/tool.tar.gz");
  EXPECT_EQ(x("${P/l*l/L}"), "/usr/L.tar.gz");  // leftmost, then longest
  EXPECT_EQ(x("${P/\\/usr\\//}"), "local/bin/tool.tar.gz");
  // Empty matches: `*` takes the whole value once; an empty pattern matches
  // between characters (Go's ReplaceAll, which docker uses).
  EXPECT_EQ(x("${A//*/r}"), "r");
  EXPECT_EQ(x("${W//x*/-}"), "a*b*c");
  EXPECT_EQ(x("${A///-}"), "-a-");
  EXPECT_EQ(x("${A///}"), "a");
  EXPECT_EQ(x("${NOPE#x}"), "");
  // `\*` `\?` `\\` are literal in a pattern.
  EXPECT_EQ(x("${W#a\\*}"), "b*c");
  EXPECT_EQ(x("${W//\\*/-}"), "a-b-c");
  EXPECT_EQ(x("${W%\\**}"), "a*b");
  // `?` is one character, not one byte.
  EXPECT_EQ(x("${U#?}"), "1\xC3\xA9");
  EXPECT_EQ(x("${U%?}"),
            "\xC3\xA9"
            "1");
  EXPECT_EQ(err("${W#\\x}"),
            "failed to process \"${W#\\\\x}\": invalid pattern (\\x) in substitution: invalid "
            "escape '\\x'");
  EXPECT_EQ(err("${A/x}"), "failed to process \"${A/x}\": syntax error: missing '/' in ${}");
}

TEST(Expand, SyntaxErrors) {
  EXPECT_EQ(err("${A"), "failed to process \"${A\": syntax error: missing '}'");
  EXPECT_EQ(err("${"), "failed to process \"${\": syntax error: missing '}'");
  EXPECT_EQ(err("x${A:-x"), "failed to process \"x${A:-x\": syntax error: missing '}'");
  EXPECT_EQ(err("${}"), "failed to process \"${}\": syntax error: bad substitution");
  EXPECT_EQ(err("${:x}"), "failed to process \"${:x}\": syntax error: bad substitution");
  EXPECT_EQ(err("${{A}"), "failed to process \"${{A}\": syntax error: bad substitution");
  EXPECT_EQ(err("${A:=x}"),
            "failed to process \"${A:=x}\": unsupported modifier (:=) in "
            "substitution");
  EXPECT_EQ(err("${A x}"),
            "failed to process \"${A x}\": unsupported modifier ( ) in substitution");
  EXPECT_EQ(err("'abc"),
            "failed to process \"'abc\": unexpected end of statement while looking for matching "
            "single-quote");
  EXPECT_EQ(err("\"abc"),
            "failed to process \"\\\"abc\": unexpected end of statement while looking for "
            "matching double-quote");
  // An error that reaches the end inside ${...} is reported as the brace.
  EXPECT_EQ(err("${NOPE:-'x}"), "failed to process \"${NOPE:-'x}\": syntax error: missing '}'");
  EXPECT_EQ(err("${NOPE:-'x'"), "failed to process \"${NOPE:-'x'\": syntax error: missing '}'");
}

TEST(Expand, QuotesAndEscapes) {
  EXPECT_EQ(x("'$A'"), "$A");
  EXPECT_EQ(x("\"$A\""), "a");
  EXPECT_EQ(x("\"${A}-x\""), "a-x");
  EXPECT_EQ(x("\"a  b\""), "a  b");
  EXPECT_EQ(x("a'b c'd"), "ab cd");
  EXPECT_EQ(x("''"), "");
  EXPECT_EQ(x("'a\\b'"), "a\\b");  // nothing escapes inside single quotes
  EXPECT_EQ(x("\"it's\""), "it's");
  EXPECT_EQ(x("'say \"hi\"'"), "say \"hi\"");
  EXPECT_EQ(x("\"a\\\"b\""), "a\"b");  // \" inside double quotes
  EXPECT_EQ(x("\"a\\$A\""), "a$A");    // \$ inside double quotes
  EXPECT_EQ(x("\"a\\\\b\""), "a\\b");  // \\ inside double quotes
  EXPECT_EQ(x("\"a\\nb\""), "a\\nb");  // any other \ stays
  EXPECT_EQ(x("\"a\\'b\""), "a\\'b");
  EXPECT_EQ(x("\\$A"), "$A");
  EXPECT_EQ(x("a\\ b"), "a b");
  EXPECT_EQ(x("\\'x\\'"), "'x'");
  EXPECT_EQ(x("\\\"x"), "\"x");
  EXPECT_EQ(x("\\n"), "n");
  EXPECT_EQ(x("a\\"), "a");  // a trailing escape is dropped
}

TEST(Expand, BacktickEscape) {
  EXPECT_EQ(x("`$A", '`'), "$A");
  EXPECT_EQ(x("c:\\$A", '`'), "c:\\a");  // a backslash is an ordinary character
  EXPECT_EQ(x("\"a`\"b\"", '`'), "a\"b");
  EXPECT_EQ(x("\"a\\b\"", '`'), "a\\b");
  EXPECT_EQ(x("a` b", '`'), "a b");
}

TEST(Expand, WordsSplitOnUnquotedWhitespaceAndExpansions) {
  EXPECT_EQ(words("80 443"), (V{"80", "443"}));
  EXPECT_EQ(words("  a   b  "), (V{"a", "b"}));
  // Docker's EXPOSE: an unquoted expansion splits, a quoted one does not.
  EXPECT_EQ(words("$PORTS"), (V{"80", "443"}));
  EXPECT_EQ(words("8080 $PORTS/tcp"), (V{"8080", "80", "443/tcp"}));
  EXPECT_EQ(words("\"$PORTS\""), V{"80 443"});
  EXPECT_EQ(words("\"$SP\""), V{"x  y"});
  EXPECT_EQ(words("pre$SP"), (V{"prex", "y"}));
  EXPECT_EQ(words("'a b' c"), (V{"a b", "c"}));
  EXPECT_EQ(words("a\\ b c"), (V{"a b", "c"}));
  EXPECT_EQ(words("x${EMPTY}y"), V{"xy"});
  EXPECT_TRUE(words("$NOPE").empty());
  EXPECT_TRUE(words("\"\"").empty());
  EXPECT_TRUE(words("").empty());
  auto bad = expand_words("a ${", env());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "failed to process \"a ${\": syntax error: missing '}'");
}

TEST(Expand, LookupEnv) {
  EXPECT_EQ(x("$DUP"), "2");      // the last one wins
  EXPECT_EQ(x("${NOEQ-d}"), "");  // a bare name is set, empty
  EXPECT_EQ(x("${NOEQ:-d}"), "d");
  Lookup none = lookup_env({});
  EXPECT_FALSE(none("A").has_value());
  auto r = expand_word("[$A]", Lookup{});  // no lookup at all: everything unset
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "[]");
}

}  // namespace
}  // namespace berth::build
