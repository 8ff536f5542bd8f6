#include "cli/progress.h"

#include <gtest/gtest.h>

#include "cli/context.h"
#include "cli/format.h"
#include "cli/image_rows.h"
#include "cli/units.h"

namespace berth::cli {
namespace {

using api::client::JsonMessage;

JsonMessage msg(std::string id, std::string status, bool progress = false, int64_t cur = 0,
                int64_t total = 0) {
  JsonMessage m;
  m.id = std::move(id);
  m.status = std::move(status);
  m.has_progress = progress;
  m.current = cur;
  m.total = total;
  return m;
}

std::string render(bool tty, int width, const std::vector<JsonMessage>& ms) {
  std::string out;
  ProgressPrinter p([&](std::string_view s) { out += s; }, tty, width);
  for (auto& m : ms) p.display(m, 1000);
  return out;
}

const std::vector<JsonMessage> kPull = {
    msg("latest", "Pulling from library/busybox"),
    msg("a1b2c3d4e5f6", "Pulling fs layer", true),
    msg("a1b2c3d4e5f6", "Downloading", true, 1000000, 2000000),
    msg("a1b2c3d4e5f6", "Verifying Checksum", true),
    msg("a1b2c3d4e5f6", "Download complete", true),
    msg("a1b2c3d4e5f6", "Extracting", true, 2000000, 2000000),
    msg("a1b2c3d4e5f6", "Pull complete", true),
    msg("", "Digest: sha256:00"),
    msg("", "Status: Downloaded newer image for busybox:latest"),
};

TEST(Progress, PlainLinesWhenNotATerminal) {
  EXPECT_EQ(render(false, 80, kPull),
            "latest: Pulling from library/busybox\n"
            "a1b2c3d4e5f6: Pulling fs layer\n"
            "a1b2c3d4e5f6: Verifying Checksum\n"
            "a1b2c3d4e5f6: Download complete\n"
            "a1b2c3d4e5f6: Pull complete\n"
            "Digest: sha256:00\n"
            "Status: Downloaded newer image for busybox:latest\n");
}

TEST(Progress, TerminalRedrawsLayerLinesInPlace) {
  std::string out = render(true, 120,
                           {msg("a", "Pulling fs layer", true), msg("b", "Pulling fs layer", true),
                            msg("a", "Downloading", true, 50, 100)});
  EXPECT_EQ(out,
            "\n\x1b[1A\x1b[2K\ra: Pulling fs layer \r\x1b[1B"
            "\n\x1b[1A\x1b[2K\rb: Pulling fs layer \r\x1b[1B"
            "\x1b[2A\x1b[2K\ra: Downloading [=========================>                         ]"
            "      50B/100B\r\x1b[2B");
}

TEST(Progress, BarAndNumbersLikeDocker) {
  EXPECT_EQ(progress_string(msg("x", "", true, 0, 0), 200, 0), "");
  EXPECT_EQ(progress_string(msg("x", "", true, 1500, 0), 80, 0), "   1.5kB");
  EXPECT_EQ(progress_string(msg("x", "", true, 1000000, 2000000), 80, 0), "     1MB/2MB");
  EXPECT_EQ(progress_string(msg("x", "", true, 3, 2), 80, 0), "      3B");
  JsonMessage timed = msg("x", "", true, 100, 400);
  timed.start = 900;
  EXPECT_EQ(progress_string(timed, 80, 1000), "    100B/400B 5m0s");
}

TEST(ImageRows, OneRowPerTagAndDigestsLikeDocker) {
  api::client::ImageSummary a;
  a.id = "sha256:0123456789abcdef0123";
  a.repo_tags = {"busybox:latest", "localhost:5000/team/busybox:1.0"};
  a.repo_digests = {"busybox@sha256:dd", "other@sha256:ee"};
  a.created = 1000;
  a.size = 4261550;
  api::client::ImageSummary dangling;
  dangling.id = "sha256:ffffffffffffffff";
  dangling.created = 1000;
  dangling.size = 999;
  auto rows = image_rows({a, dangling}, false, true, 1000 + 2 * 86400);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["Repository"], "busybox");
  EXPECT_EQ(rows[0]["Tag"], "latest");
  EXPECT_EQ(rows[0]["ID"], "0123456789ab");
  EXPECT_EQ(rows[0]["Size"], "4.26MB");
  EXPECT_EQ(rows[0]["CreatedSince"], "2 days ago");
  EXPECT_EQ(rows[0]["Digest"], "<none>");
  EXPECT_EQ(rows[1]["Repository"], "localhost:5000/team/busybox");
  EXPECT_EQ(rows[2]["Repository"], "other");
  EXPECT_EQ(rows[2]["Tag"], "<none>");
  EXPECT_EQ(rows[3]["Repository"], "<none>");
  EXPECT_EQ(rows[3]["SharedSize"], "N/A");
  auto with_digests = image_rows({a}, true, false, 0);
  ASSERT_EQ(with_digests.size(), 3u);
  EXPECT_EQ(with_digests[0]["Digest"], "sha256:dd");
  EXPECT_EQ(with_digests[0]["ID"], "sha256:0123456789abcdef0123");
  EXPECT_EQ(with_digests[2]["Digest"], "sha256:ee");
  EXPECT_EQ(familiar_name("docker.io/library/busybox"), "busybox");
  EXPECT_EQ(familiar_name("docker.io/yidadaa/x"), "yidadaa/x");
}

TEST(Filters, DockerShape) {
  EXPECT_EQ(*filters_json({}), "");
  EXPECT_EQ(*filters_json({"dangling=true", "label=a=b"}, {{"reference", "busybox"}}),
            R"({"dangling":{"true":true},"label":{"a=b":true},"reference":{"busybox":true}})");
  auto bad = filters_json({"nope"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "bad format of filter (expected name=value)");
}

TEST(Timestamps, DockerSinceUntil) {
  setenv("TZ", "UTC", 1);
  tzset();
  int64_t now = 1700000000LL * 1000000000LL;
  EXPECT_EQ(*docker_timestamp("1699999999", now), "1699999999");
  EXPECT_EQ(*docker_timestamp("1699999999.5", now), "1699999999.5");
  EXPECT_EQ(*docker_timestamp("10m", now), "1699999400.000000000");
  EXPECT_EQ(*docker_timestamp("1h30m", now), "1699994600.000000000");
  EXPECT_EQ(*docker_timestamp("2023-11-14T22:13:20Z", now), "1700000000.000000000");
  EXPECT_EQ(*docker_timestamp("2023-11-14T23:13:20.25+01:00", now), "1700000000.250000000");
  EXPECT_EQ(*docker_timestamp("2023-11-14", now), "1699920000.000000000");
  EXPECT_FALSE(docker_timestamp("yesterday", now));
}

}  // namespace
}  // namespace berth::cli

namespace berth::cli {
namespace {

TEST(SearchRows, DockerColumns) {
  api::client::SearchResult s;
  s.name = "busybox";
  s.description = "Busybox base image.\nWith a long description that docker truncates at 45";
  s.star_count = 3210;
  s.is_official = true;
  auto rows = search_rows({s}, true);
  EXPECT_EQ(rows[0]["Description"], "Busybox base image. With a long description \xE2\x80\xA6");
  EXPECT_EQ(rows[0]["StarCount"], "3210");
  EXPECT_EQ(rows[0]["IsOfficial"], "[OK]");
  EXPECT_EQ(rows[0]["IsAutomated"], "");
  auto f = ListFormatter::create("", "table {{.Name}}\t{{.StarCount}}\t{{.IsOfficial}}",
                                 search_headers(), "*formatter.searchContext");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->render(rows), "NAME      STARS     OFFICIAL\nbusybox   3210      [OK]\n");
}

TEST(HistoryRows, TruncationAndRawMode) {
  api::client::HistoryItem top;
  top.id = "sha256:0123456789abcdef";
  top.created = 1700000000;
  top.created_by = "/bin/sh -c\t#(nop) CMD [\"sh\"] and a lot more text to truncate here";
  top.size = 1234;
  api::client::HistoryItem missing = top;
  missing.id = "<missing>";
  auto rows = history_rows({top, missing}, true, true, 1700000000 + 90);
  EXPECT_EQ(rows[0]["ID"], "0123456789ab");
  EXPECT_EQ(rows[1]["ID"], "<missing>");
  EXPECT_EQ(rows[0]["CreatedBy"], "/bin/sh -c #(nop) CMD [\"sh\"] and a lot more \xE2\x80\xA6");
  EXPECT_EQ(rows[0]["CreatedSince"], "About a minute ago");
  EXPECT_EQ(rows[0]["Size"], "1.23kB");
  auto raw = history_rows({top}, false, false, 0);
  EXPECT_EQ(raw[0]["Size"], "1234");
  EXPECT_EQ(raw[0]["ID"], "sha256:0123456789abcdef");
}

}  // namespace
}  // namespace berth::cli
