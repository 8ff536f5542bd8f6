// Designated initializers leave the other options at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <random>

#include "logs/decode_internal.h"
#include "logs/json_file.h"
#include "logs/test_util.h"

namespace berth::logs {
namespace {

using testing::exists;
using testing::file_size;
using testing::slurp;
using testing::spit;
using testing::TempDir;

constexpr int64_t kT = 1796000214123456789;  // 2026-11-30T00:56:54.123456789Z
const std::string kTs = format_time(kT);

TEST(Time, FormatsRfc3339NanoTrimmingZeros) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time(1'500'000'000), "1970-01-01T00:00:01.5Z");
  EXPECT_EQ(format_time(1796000214123456789), "2026-11-30T00:56:54.123456789Z");
  EXPECT_EQ(format_time(1796000214100000000), "2026-11-30T00:56:54.1Z");
  EXPECT_EQ(format_time(951782400000000000), "2000-02-29T00:00:00Z");  // leap day
  EXPECT_EQ(format_time_fixed(1796000214100000000), "2026-11-30T00:56:54.100000000Z");
  EXPECT_EQ(format_time_fixed(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(Time, ParsesAndRoundTrips) {
  for (int64_t t :
       {int64_t{0}, int64_t{1}, int64_t{951782400000000000}, kT, int64_t{4102444799999999999}}) {
    auto p = parse_time(format_time(t));
    ASSERT_TRUE(p.has_value()) << format_time(t);
    EXPECT_EQ(*p, t);
  }
  EXPECT_EQ(parse_time("2026-11-30T01:56:54.5+01:00").value(),
            parse_time("2026-11-30T00:56:54.5Z").value());
  EXPECT_EQ(parse_time("2026-11-30T00:56:54.1234567891Z").value(),
            parse_time("2026-11-30T00:56:54.123456789Z").value());  // extra digits ignored
  for (const char* bad : {"", "2026-12-09", "2026-13-09T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-12-09T00:00:00", "2026-12-09T00:00:00.Z", "2026-12-09T24:00:00Z",
                          "2026-12-09T00:00:00Zjunk", "2026-12-09T00:00:00+0100"}) {
    auto p = parse_time(bad);
    EXPECT_FALSE(p.has_value()) << bad;
    if (!p) {
      EXPECT_EQ(p.error().code, Errc::InvalidArgument);
    }
  }
}

TEST(Frame, StdcopyHeader) {
  std::string f = frame(2, "hello");
  ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(f.substr(0, 8), std::string("\x02\x00\x00\x00\x00\x00\x00\x05", 8));
  EXPECT_EQ(f.substr(8), "hello");
  std::string big(70000, 'x');
  f = frame(1, big);
  EXPECT_EQ(f.substr(0, 8), std::string("\x01\x00\x00\x00\x00\x01\x11\x70", 8));
}

TEST(Options, DockerUnitsAndErrors) {
  auto r = parse_log_opts({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->max_size, 10 * 1024 * 1024);
  EXPECT_EQ(r->max_files, 3);
  EXPECT_EQ(parse_log_opts({{"max-size", "512k"}})->max_size, 512 * 1024);
  EXPECT_EQ(parse_log_opts({{"max-size", "1g"}})->max_size, int64_t{1} << 30);
  EXPECT_EQ(parse_log_opts({{"max-size", "1.5M"}})->max_size, 1536 * 1024);
  EXPECT_EQ(parse_log_opts({{"max-size", "10mb"}})->max_size, 10 * 1024 * 1024);
  EXPECT_EQ(parse_log_opts({{"max-size", "100"}})->max_size, 100);
  EXPECT_EQ(parse_log_opts({{"max-file", "5"}})->max_files, 5);
  EXPECT_EQ(parse_log_opts({{"max-file", "5"}})->max_size, 10 * 1024 * 1024);
  EXPECT_TRUE(parse_log_opts({{"tag", "x"}, {"labels", "a"}, {"env", "B"}}).has_value());
  EXPECT_TRUE(parse_log_opts({{"compress", "false"}}).has_value());
  EXPECT_EQ(parse_log_opts({{"max-size", "10x"}}).error().message, "invalid suffix: 'x'");
  EXPECT_EQ(parse_log_opts({{"max-size", "0"}}).error().message,
            "max-size must be a positive number");
  EXPECT_EQ(parse_log_opts({{"max-file", "0"}}).error().message, "max-file cannot be less than 1");
  EXPECT_FALSE(parse_log_opts({{"max-file", "x"}}).has_value());
  EXPECT_TRUE(parse_log_opts({{"compress", "true"}})->compress);
  EXPECT_EQ(parse_log_opts({{"compress", "true"}, {"max-file", "1"}}).error().message,
            "compress cannot be true when max-file is less than 2 or max-size is not set");
  EXPECT_EQ(parse_log_opts({{"compress", "yes"}}).error().message,
            "strconv.ParseBool: parsing \"yes\": invalid syntax (compress)");
  auto u = parse_log_opts({{"mode", "non-blocking"}});
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code, Errc::InvalidArgument);
  EXPECT_EQ(u.error().message, "unknown log opt 'mode' for json-file log driver");
}

TEST(Options, LocalDriverDefaultsAndKeys) {
  auto r = parse_log_opts({}, "local");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->max_size, 20 * 1024 * 1024);
  EXPECT_EQ(r->max_files, 5);
  EXPECT_TRUE(r->compress);
  auto o = parse_log_opts({{"max-size", "1m"}, {"max-file", "2"}, {"compress", "false"}}, "local");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->max_size, 1024 * 1024);
  EXPECT_EQ(o->max_files, 2);
  EXPECT_FALSE(o->compress);
  EXPECT_EQ(parse_log_opts({{"max-file", "1"}}, "local").error().message,
            "compression cannot be enabled when max file count is 1");
  EXPECT_TRUE(parse_log_opts({{"max-file", "1"}, {"compress", "false"}}, "local").has_value());
  EXPECT_EQ(parse_log_opts({{"labels", "a"}}, "local").error().message,
            "unknown log opt 'labels' for local log driver");
}

std::unique_ptr<Writer> open_writer(const std::string& p, RotateOptions o = {}) {
  auto w = Writer::open(p, o);
  EXPECT_TRUE(w.has_value()) << w.error().message;
  return w ? std::move(*w) : nullptr;
}

TEST(Writer, DockerByteFormat) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p);
  ASSERT_TRUE(w->write(Stream::Stdout, "hello\n", kT).has_value());
  ASSERT_TRUE(w->write(Stream::Stderr, "oops\n", kT).has_value());
  EXPECT_EQ(slurp(p), "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"" + kTs + "\"}\n" +
                          "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"" + kTs + "\"}\n");
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(Writer, EscapesLikeDocker) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p);
  std::string in = std::string("q\"b\\t\t<a>&\x01\r\xe2\x80\xa8 \xc3\xa9 \xff\xfe end\n");
  ASSERT_TRUE(w->write(Stream::Stdout, in, kT).has_value());
  EXPECT_EQ(slurp(p),
            "{\"log\":\"q\\\"b\\\\t\\t\\u003ca\\u003e\\u0026\\u0001\\r\\u2028 \xc3\xa9 "
            "\\ufffd\\ufffd end\\n\",\"stream\":\"stdout\",\"time\":\"" +
                kTs + "\"}\n");
  // Read back: invalid bytes come back as U+FFFD, everything else unchanged.
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 1u);
  EXPECT_EQ(es[0].line, "q\"b\\t\t<a>&\x01\r\xe2\x80\xa8 \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end\n");
}

TEST(Writer, InvalidUtf8SequencesEachReplaced) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p);
  // Overlong, surrogate, truncated 3-byte, > U+10FFFF, lone continuation.
  std::string in = "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf4\x90\x80\x80|\x80|\xf0\x9f\x98\x80\n";
  ASSERT_TRUE(w->write(Stream::Stdout, in, kT).has_value());
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 1u);
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(es[0].line, r + r + "|" + r + r + r + "|" + r + r + "|" + r + r + r + r + "|" + r +
                            "|\xf0\x9f\x98\x80\n");
}

TEST(Writer, PartialLinesBufferedPerStream) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p);
  ASSERT_TRUE(w->write(Stream::Stdout, "ab", kT).has_value());
  ASSERT_TRUE(w->write(Stream::Stderr, "E1", kT).has_value());
  EXPECT_EQ(slurp(p), "");  // nothing complete yet
  ASSERT_TRUE(w->write(Stream::Stdout, "c\nd1\nd2", kT).has_value());
  ASSERT_TRUE(w->write(Stream::Stderr, "\n", kT).has_value());
  ASSERT_TRUE(w->flush().has_value());
  ASSERT_TRUE(w->flush().has_value());  // nothing left: writes nothing
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 4u);
  EXPECT_EQ(es[0].line, "abc\n");
  EXPECT_EQ(es[1].line, "d1\n");
  EXPECT_EQ(es[2].line, "E1\n");
  EXPECT_EQ(es[2].stream, Stream::Stderr);
  EXPECT_EQ(es[3].line, "d2");  // flushed partial, no newline (docker's partial entry)
}

TEST(Writer, LongLinesSplitAt16KiB) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p);
  std::string big(40000, 'x');
  // Arrives in odd pieces, without a newline until the end.
  for (size_t i = 0; i < big.size(); i += 7000)
    ASSERT_TRUE(w->write(Stream::Stdout, big.substr(i, 7000), kT).has_value());
  ASSERT_TRUE(w->write(Stream::Stdout, "\n", kT).has_value());
  ASSERT_TRUE(w->write(Stream::Stdout, std::string(20000, 'y') + "\n", kT).has_value());
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 5u);
  EXPECT_EQ(es[0].line, std::string(16384, 'x'));
  EXPECT_EQ(es[1].line, std::string(16384, 'x'));
  EXPECT_EQ(es[2].line, std::string(40000 - 32768, 'x') + "\n");
  EXPECT_EQ(es[3].line, std::string(16384, 'y'));
  EXPECT_EQ(es[4].line, std::string(20000 - 16384, 'y') + "\n");
}

// One entry "{"log":"x...\n","stream":"stdout","time":"<kTs>"}\n" is exactly
// this many bytes for n payload bytes without escapes before the newline.
size_t entry_size(size_t n) {
  return std::string("{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\"\"}\n").size() + n +
         kTs.size();
}

TEST(Writer, RotationBoundaries) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  const size_t e = entry_size(8);  // "line-NNN" + the escaped newline
  auto w = open_writer(p, {.max_size = static_cast<int64_t>(3 * e), .max_files = 3});
  auto line = [](int i) { return fmt::format("line-{:03}\n", i); };
  for (int i = 0; i < 3; i++) ASSERT_TRUE(w->write(Stream::Stdout, line(i), kT).has_value());
  // Exactly max_size: no rotation yet.
  EXPECT_EQ(file_size(p), static_cast<off_t>(3 * e));
  EXPECT_FALSE(exists(p + ".1"));
  ASSERT_TRUE(w->write(Stream::Stdout, line(3), kT).has_value());  // would exceed: rotates
  EXPECT_EQ(file_size(p), static_cast<off_t>(e));
  EXPECT_EQ(file_size(p + ".1"), static_cast<off_t>(3 * e));
  for (int i = 4; i < 12; i++) ASSERT_TRUE(w->write(Stream::Stdout, line(i), kT).has_value());
  // 12 entries, 3 per file, 3 files kept: .2 = 3..5, .1 = 6..8, live = 9..11.
  EXPECT_FALSE(exists(p + ".3"));
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 9u);
  for (int i = 0; i < 9; i++) EXPECT_EQ(es[i].line, line(i + 3));
  // An entry bigger than max_size still goes into an (empty) file of its own.
  ASSERT_TRUE(w->write(Stream::Stdout, std::string(5 * e, 'z') + "\n", kT).has_value());
  ASSERT_TRUE(w->write(Stream::Stdout, line(99), kT).has_value());
  EXPECT_EQ(testing::read_all(p + ".1").back().line.size(), 5 * e + 1);
  EXPECT_EQ(testing::read_all(p).back().line, line(99));
}

TEST(Writer, MaxFileOneRecreatesTheFile) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  const size_t e = entry_size(1);
  auto w = open_writer(p, {.max_size = static_cast<int64_t>(2 * e), .max_files = 1});
  for (char c = 'a'; c <= 'e'; c++)
    ASSERT_TRUE(w->write(Stream::Stdout, std::string(1, c) + "\n", kT).has_value());
  EXPECT_FALSE(exists(p + ".1"));
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 1u);
  EXPECT_EQ(es[0].line, "e\n");
}

TEST(Writer, RotationOffWithZeroMaxSize) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p, {.max_size = 0, .max_files = 3});
  for (int i = 0; i < 1000; i++) ASSERT_TRUE(w->write(Stream::Stdout, "x\n", kT).has_value());
  EXPECT_FALSE(exists(p + ".1"));
  EXPECT_EQ(testing::read_all(p).size(), 1000u);
}

TEST(Writer, ReopenAppendsAndEndsATornLine) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  {
    auto w = open_writer(p);
    ASSERT_TRUE(w->write(Stream::Stdout, "one\n", kT).has_value());
  }
  spit(p, "{\"log\":\"tor", true);  // a writer killed mid-entry
  {
    auto w = open_writer(p);
    ASSERT_TRUE(w->write(Stream::Stdout, "two\n", kT).has_value());
  }
  auto es = testing::read_all(p);
  ASSERT_EQ(es.size(), 2u);
  EXPECT_EQ(es[0].line, "one\n");
  EXPECT_EQ(es[1].line, "two\n");
}

TEST(Writer, BadOptionsAndPaths) {
  TempDir d;
  EXPECT_FALSE(Writer::open(d.path() + "/x", {.max_size = 1, .max_files = 0}).has_value());
  auto r = Writer::open(d.path() + "/no/such/dir/x", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

TEST(Decode, FastPathMatchesNlohmann) {
  // Random payloads (controls, quotes, non-ASCII, invalid bytes) through the
  // writer: the fast decoder and nlohmann must agree on every line.
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = open_writer(p, {.max_size = 0});
  std::mt19937 rng(42);
  const std::string alphabet = std::string("ab \"\\/<>&\t\r\x01\x1f\x7f", 15) +
                               "\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\xff\xc0";
  for (int i = 0; i < 500; i++) {
    std::string s;
    int n = static_cast<int>(rng() % 60);
    for (int k = 0; k < n; k++) s += alphabet[rng() % alphabet.size()];
    ASSERT_TRUE(w->write(i % 2 ? Stream::Stderr : Stream::Stdout, s + "\n", kT + i).has_value());
  }
  std::string all = slurp(p);
  size_t pos = 0;
  int lines = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    std::string_view line(all.data() + pos, nl - pos);
    Entry a, b;
    ASSERT_TRUE(decode_line(line, a)) << line;
    ASSERT_TRUE(decode_line_slow(line, b)) << line;
    EXPECT_EQ(a.line, b.line);
    EXPECT_EQ(a.stream, b.stream);
    EXPECT_EQ(a.time_ns, b.time_ns);
    EXPECT_EQ(a.time_ns, kT + lines);
    pos = nl + 1;
    lines++;
  }
  EXPECT_EQ(lines, 500);
}

// Lines the writer would not produce (another writer, a damaged file): the
// fast path and nlohmann still agree, on the value and on refusing.
TEST(Decode, FastPathAgreesOnHandWrittenLines) {
  const std::string t = R"(,"stream":"stdout","time":"2026-11-29T20:56:54Z"})";
  for (std::string log : {R"("plain")", R"("a\"b\\\\")", R"("\\")", R"("\u00e9\/\b\f\r\t")",
                          "\"caf\xc3\xa9\"", "\"bad \xff utf8\"", "\"raw\x01control\"",
                          R"("\ud83d")", R"("\x")", R"("unterminated)", R"("a\")"}) {
    std::string line = R"({"log":)" + log + t;
    Entry a, b;
    bool fa = decode_line(line, a), fb = decode_line_slow(line, b);
    EXPECT_EQ(fa, fb) << line;
    if (fa && fb) {
      EXPECT_EQ(a.line, b.line) << line;
    }
  }
}

TEST(Decode, DockerVariantsAndCorruptLines) {
  Entry e;
  // Docker with --log-opt labels adds "attrs"; surrogate pairs; empty "log" omitted.
  ASSERT_TRUE(decode_line(
      R"({"log":"hi\n","stream":"stderr","attrs":{"a":"b"},"time":"2026-11-29T20:56:54.1Z"})", e));
  EXPECT_EQ(e.line, "hi\n");
  EXPECT_EQ(e.stream, Stream::Stderr);
  EXPECT_EQ(format_time(e.time_ns), "2026-11-29T20:56:54.1Z");
  ASSERT_TRUE(
      decode_line(R"({"log":"\ud83d\ude00","stream":"stdout","time":"2026-11-29T20:56:54Z"})", e));
  EXPECT_EQ(e.line, "\xf0\x9f\x98\x80");
  ASSERT_TRUE(decode_line(R"({"stream":"stdout","time":"2026-11-29T20:56:54Z"})", e));
  EXPECT_EQ(e.line, "");
  for (const char* bad :
       {"", "{", "{\"log\":\"x", R"({"log":"x","stream":"stdin","time":"2026-11-29T20:56:54Z"})",
        R"({"log":"x","stream":"stdout","time":"yesterday"})", R"({"log":"x","stream":"stdout"})",
        "[1,2]", "garbage"}) {
    EXPECT_FALSE(decode_line(bad, e)) << bad;
  }
}

}  // namespace
}  // namespace berth::logs
