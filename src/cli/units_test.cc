#include "cli/units.h"

#include <gtest/gtest.h>

#include "cli/tabwriter.h"

namespace berth::cli {
namespace {

TEST(Units, HumanSizeLikeGoUnits) {
  EXPECT_EQ(human_size(0, 3), "0B");
  EXPECT_EQ(human_size(999, 3), "999B");
  EXPECT_EQ(human_size(1000, 3), "1kB");
  EXPECT_EQ(human_size(4261550, 3), "4.26MB");
  EXPECT_EQ(human_size(1234567890, 3), "1.23GB");
  EXPECT_EQ(human_size(999999, 3), "1e+03kB");  // go-units' %g quirk, as docker prints
  EXPECT_EQ(human_size(4261550), "4.262MB");
  EXPECT_EQ(human_size(1215000000), "1.215GB");
  EXPECT_EQ(human_size(100000, 3), "100kB");
  EXPECT_EQ(human_size(1e27, 3), "1e+03YB");
}

TEST(Units, HumanDurationLikeGoUnits) {
  EXPECT_EQ(human_duration(0.5), "Less than a second");
  EXPECT_EQ(human_duration(1), "1 second");
  EXPECT_EQ(human_duration(59), "59 seconds");
  EXPECT_EQ(human_duration(60), "About a minute");
  EXPECT_EQ(human_duration(119), "About a minute");
  EXPECT_EQ(human_duration(120), "2 minutes");
  EXPECT_EQ(human_duration(3599), "59 minutes");
  EXPECT_EQ(human_duration(3600), "About an hour");
  EXPECT_EQ(human_duration(5399), "About an hour");
  EXPECT_EQ(human_duration(5400), "2 hours");
  EXPECT_EQ(human_duration(47 * 3600), "47 hours");
  EXPECT_EQ(human_duration(48 * 3600), "2 days");
  EXPECT_EQ(human_duration(14 * 86400), "2 weeks");
  EXPECT_EQ(human_duration(60 * 86400), "2 months");
  EXPECT_EQ(human_duration(730 * 86400), "2 years");
  EXPECT_EQ(time_ago(1000, 1000 + 2 * 86400 + 5), "2 days ago");
  EXPECT_EQ(time_ago(0, 3600), "About an hour ago");
}

TEST(Units, Ellipsis) {
  EXPECT_EQ(ellipsis("abcdef", 10), "abcdef");
  EXPECT_EQ(ellipsis("abcdef", 4), "abc\xE2\x80\xA6");
  EXPECT_EQ(ellipsis("abcdef", 1), "a");
  EXPECT_EQ(ellipsis("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(rune_count("\xC3\xA9x"), 2u);
}

TEST(Units, TimeFormatsInUtc) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(go_time_string(1700000000), "2023-11-14 22:13:20 +0000 UTC");
  // UTC in any local zone, as Go keeps a parsed "Z" time in UTC.
  setenv("TZ", "Asia/Tokyo", 1);
  tzset();
  EXPECT_EQ(go_time_string_utc_ns(1700000000574997649LL),
            "2023-11-14 22:13:20.574997649 +0000 UTC");
  EXPECT_EQ(go_time_string_utc_ns(1700000000500000000LL), "2023-11-14 22:13:20.5 +0000 UTC");
  EXPECT_EQ(go_time_string_utc_ns(1700000000000000000LL), "2023-11-14 22:13:20 +0000 UTC");
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(rfc3339_local(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(rfc3339_nano_fixed_local(1700000000000000005LL), "2023-11-14T22:13:20.000000005Z");
}

TEST(Tabwriter, DockerImagesLayout) {
  std::string in =
      "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
      "busybox\tlatest\tabcdef123456\t2 days ago\t4.26MB\n"
      "localhost:5000/team/app\t1.0\t0123456789ab\tAbout an hour ago\t120MB\n";
  EXPECT_EQ(tabwrite(in),
            "REPOSITORY                TAG       IMAGE ID       CREATED             SIZE\n"
            "busybox                   latest    abcdef123456   2 days ago          4.26MB\n"
            "localhost:5000/team/app   1.0       0123456789ab   About an hour ago   120MB\n");
}

TEST(Tabwriter, ColumnBlocksAndShortLines) {
  // A line with fewer cells ends the column block: later lines align anew.
  std::string in = "a\tb\tc\nlonglonglonglong\tx\ty\nonly\nq\tr\n";
  EXPECT_EQ(tabwrite(in),
            "a                  b         c\n"
            "longlonglonglong   x         y\n"
            "only\n"
            "q         r\n");
  EXPECT_EQ(tabwrite("x\ty"), "x         y");
  EXPECT_EQ(tabwrite("\tlead\n"), "          lead\n");
  EXPECT_EQ(tabwrite("\xC3\xA9\tz\n"), "\xC3\xA9         z\n");
}

}  // namespace
}  // namespace berth::cli
