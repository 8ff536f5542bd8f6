#include "cli/flags.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

FlagSet images_flags() {
  FlagSet f;
  f.add_bool("all", 'a', "Show all images");
  f.add_bool("quiet", 'q', "Only show image IDs");
  f.add_bool("digests", 0, "Show digests");
  f.add_list("filter", 'f', "Filter output", "filter");
  f.add_string("format", 0, "", "Format output");
  f.add_int("limit", 'n', 25, "Max number of results");
  return f;
}

TEST(Flags, LongShortCombinedAndInterspersed) {
  FlagSet f = images_flags();
  auto pos = f.parse({"-aq", "busybox", "--filter", "dangling=true", "-f=label=a", "-freference=x",
                      "--format={{.ID}}", "--digests", "-n", "5"});
  ASSERT_TRUE(pos) << pos.error().message;
  EXPECT_EQ(*pos, std::vector<std::string>{"busybox"});
  EXPECT_TRUE(f.get_bool("all"));
  EXPECT_TRUE(f.get_bool("quiet"));
  EXPECT_TRUE(f.get_bool("digests"));
  EXPECT_EQ(f.get_list("filter"),
            (std::vector<std::string>{"dangling=true", "label=a", "reference=x"}));
  EXPECT_EQ(f.get_string("format"), "{{.ID}}");
  EXPECT_EQ(f.get_int("limit"), 5);
  EXPECT_TRUE(f.changed("limit"));
}

// docker's filter options: "name=value" is checked while the flag is parsed,
// an empty value is skipped.
TEST(Flags, FilterValuesNeedNameEqualsValue) {
  FlagSet f = images_flags();
  auto bad = f.parse({"--filter", "bogus"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "invalid argument \"bogus\" for \"-f, --filter\" flag: bad format of filter "
            "(expected name=value)");
  FlagSet g = images_flags();
  auto pos = g.parse({"-f", "", "-f", "label=a=b", "-f", "x="});
  ASSERT_TRUE(pos) << pos.error().message;
  EXPECT_EQ(g.get_list("filter"), (std::vector<std::string>{"label=a=b", "x="}));
}

TEST(Flags, BoolValuesAndDoubleDash) {
  FlagSet f = images_flags();
  auto pos = f.parse({"--all=false", "-q=true", "--", "-a", "x"});
  ASSERT_TRUE(pos);
  EXPECT_FALSE(f.get_bool("all"));
  EXPECT_TRUE(f.changed("all"));
  EXPECT_TRUE(f.get_bool("quiet"));
  EXPECT_EQ(*pos, (std::vector<std::string>{"-a", "x"}));
  EXPECT_EQ(f.get_int("limit"), 25);
}

TEST(Flags, NonInterspersedStopsAtFirstPositional) {
  FlagSet g;
  g.add_string("host", 'H', "", "Daemon socket");
  g.add_bool("debug", 'D', "Debug");
  auto pos = g.parse({"-D", "-H", "unix:///x.sock", "images", "-a"}, false);
  ASSERT_TRUE(pos);
  EXPECT_EQ(*pos, (std::vector<std::string>{"images", "-a"}));
  EXPECT_EQ(g.get_string("host"), "unix:///x.sock");
}

TEST(Flags, ErrorsUsePflagWording) {
  auto msg = [](std::vector<std::string> args) {
    FlagSet f = images_flags();
    auto r = f.parse(args);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(msg({"--foo"}), "unknown flag: --foo");
  EXPECT_EQ(msg({"-x"}), "unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(msg({"-ax"}), "unknown shorthand flag: 'x' in -ax");
  EXPECT_EQ(msg({"--format"}), "flag needs an argument: --format");
  EXPECT_EQ(msg({"-f"}), "flag needs an argument: 'f' in -f");
  EXPECT_EQ(msg({"--all=maybe"}),
            "invalid argument \"maybe\" for \"-a, --all\" flag: strconv.ParseBool: parsing "
            "\"maybe\": invalid syntax");
  EXPECT_EQ(msg({"-n", "ten"}),
            "invalid argument \"ten\" for \"-n, --limit\" flag: strconv.ParseInt: parsing \"ten\": "
            "invalid syntax");
}

TEST(Flags, HelpAndUsage) {
  FlagSet f = images_flags();
  ASSERT_TRUE(f.parse({"--help"}));
  EXPECT_TRUE(f.help_requested());
  std::string u = f.usage();
  EXPECT_NE(u.find("  -a, --all             Show all images\n"), std::string::npos) << u;
  EXPECT_NE(u.find("      --format string   Format output\n"), std::string::npos) << u;
  EXPECT_NE(u.find("-n, --limit int       Max number of results (default 25)"), std::string::npos)
      << u;
}

}  // namespace
}  // namespace berth::cli
