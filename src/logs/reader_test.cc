#include <fcntl.h>

// Designated initializers leave the other options at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "logs/json_file.h"
#include "logs/test_util.h"

namespace berth::logs {
namespace {

using testing::kSec;
using testing::kT0;
using testing::line;
using testing::numbers;
using testing::range;
using testing::read_all;
using testing::slurp;
using testing::spit;
using testing::TempDir;

// Writes n entries, i-th at kT0 + i seconds, odd ones on stderr.
void write_lines(const std::string& p, int n, RotateOptions o, int first = 0) {
  auto w = Writer::open(p, o);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  for (int i = first; i < first + n; i++)
    ASSERT_TRUE(
        (*w)->write(i % 2 ? Stream::Stderr : Stream::Stdout, line(i), kT0 + i * kSec).has_value());
}

TEST(Read, MissingFileIsNotFound) {
  TempDir d;
  auto r = read(d.path() + "/nope-json.log", {}, [](const Entry&) -> Result<void> { return ok(); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

TEST(Read, StreamSelection) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 10, {});
  EXPECT_EQ(numbers(read_all(p)), range(0, 10));
  EXPECT_EQ(numbers(read_all(p, {.stderr = false})), range(0, 10, 2));
  EXPECT_EQ(numbers(read_all(p, {.stdout = false})), range(1, 10, 2));
  EXPECT_TRUE(read_all(p, {.stdout = false, .stderr = false}).empty());
  auto es = read_all(p);
  EXPECT_EQ(es[3].stream, Stream::Stderr);
  EXPECT_EQ(es[3].time_ns, kT0 + 3 * kSec);
}

TEST(Read, SinceUntil) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 20, {});
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 15 * kSec})), range(15, 20));
  EXPECT_EQ(numbers(read_all(p, {.until_ns = kT0 + 4 * kSec})), range(0, 5));
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 5 * kSec, .until_ns = kT0 + 7 * kSec})),
            range(5, 8));
  EXPECT_EQ(numbers(read_all(
                p, {.stderr = false, .since_ns = kT0 + 5 * kSec, .until_ns = kT0 + 9 * kSec})),
            range(6, 10, 2));
  // tail counts only entries the filters keep.
  EXPECT_EQ(numbers(read_all(p, {.until_ns = kT0 + 9 * kSec, .tail = 3})), range(7, 10));
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 18 * kSec, .tail = 5})), range(18, 20));
}

TEST(Read, TailAcrossRotatedFiles) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  // ~60-byte entries, 1000-byte files: 1000 entries over many files, 40 kept.
  write_lines(p, 1000, {.max_size = 1000, .max_files = 40});
  ASSERT_TRUE(testing::exists(p + ".39"));
  auto all = numbers(read_all(p));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), 999);
  int first = all.front();
  EXPECT_EQ(all, range(first, 1000));
  EXPECT_EQ(numbers(read_all(p, {.tail = 1})), range(999, 1000));
  EXPECT_EQ(numbers(read_all(p, {.tail = 10})), range(990, 1000));
  EXPECT_EQ(numbers(read_all(p, {.tail = 100})), range(900, 1000));  // spans many files
  EXPECT_EQ(numbers(read_all(p, {.tail = 100000})), all);
  EXPECT_TRUE(read_all(p, {.tail = 0}).empty());
  EXPECT_EQ(numbers(read_all(p, {.stdout = false, .tail = 30})), range(941, 1000, 2));
  // since walks backwards too and stops at the first older entry, in any file.
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 950 * kSec})), range(950, 1000));
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 700 * kSec})), range(700, 1000));
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 700 * kSec, .tail = 5})), range(995, 1000));
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 996 * kSec, .tail = 50})), range(996, 1000));
  EXPECT_EQ(numbers(read_all(p, {.stderr = false, .since_ns = kT0 + 990 * kSec})),
            range(990, 1000, 2));
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0})), all);
  EXPECT_TRUE(read_all(p, {.since_ns = kT0 + 5000 * kSec}).empty());
}

TEST(Read, TailOfLongLinesLargerThanTheBlock) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  auto w = Writer::open(p, {.max_size = 0});
  ASSERT_TRUE(w.has_value());
  // 16 KiB entries with escapes: each encoded line is ~96 KiB, longer than
  // the tail's first 64 KiB block.
  std::string ctl(16383, '\x01');
  for (int i = 0; i < 5; i++)
    ASSERT_TRUE((*w)->write(Stream::Stdout, std::to_string(i) + ctl, kT0).has_value());
  ASSERT_TRUE((*w)->write(Stream::Stdout, "end\n", kT0).has_value());
  auto es = read_all(p, {.tail = 3});
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[0].line, "3" + ctl);
  EXPECT_EQ(es[1].line, "4" + ctl);
  EXPECT_EQ(es[2].line, "end\n");
}

TEST(Read, TornLastLineSkipped) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 5, {.max_size = 250, .max_files = 5});
  ASSERT_TRUE(testing::exists(p + ".1"));
  // A torn entry at the end of a rotated file and of the live file, and a
  // corrupt line in the middle.
  spit(p + ".1", "{\"log\":\"half", true);
  std::string live = slurp(p);
  spit(p, "garbage\n" + live + "{\"log\":\"torn\",\"stream\":\"std");
  EXPECT_EQ(numbers(read_all(p)), range(0, 5));
  EXPECT_EQ(numbers(read_all(p, {.tail = 2})), range(3, 5));
  EXPECT_EQ(numbers(read_all(p, {.tail = 5})), range(0, 5));
}

TEST(Read, CallbackErrorStopsReading) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 10, {});
  int n = 0;
  auto r = read(p, {}, [&](const Entry&) -> Result<void> {
    if (++n == 3) return make_error(Errc::Cancelled, "client gone");
    return ok();
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Cancelled);
  EXPECT_EQ(n, 3);
}

TEST(Follow, StopFnEndsAfterDraining) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 3, {});
  std::vector<Entry> got;
  auto t0 = std::chrono::steady_clock::now();
  auto r = read(
      p, {.follow = true},
      [&](const Entry& e) -> Result<void> {
        got.push_back(e);
        return ok();
      },
      [&] { return std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(300); });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(numbers(got), range(0, 3));
}

// StopFn is asked as soon as everything written has been delivered, before
// the reader waits (api/server flushes its batched output there): not only
// after a 250 ms poll timeout.
TEST(Follow, StopFnRunsEachTimeTheReaderCatchesUp) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 3, {});
  std::vector<size_t> seen;  // entries delivered at each StopFn call
  std::atomic<bool> caught_up{false};
  size_t got = 0;
  std::thread writer([&] {
    for (int i = 0; i < 500 && !caught_up; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    write_lines(p, 1, {}, 3);
  });
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration first_call{};
  auto r = read(
      p, {.follow = true},
      [&](const Entry&) -> Result<void> {
        got++;
        return ok();
      },
      [&] {
        if (seen.empty()) first_call = std::chrono::steady_clock::now() - t0;
        seen.push_back(got);
        caught_up = true;
        return got == 4 || std::chrono::steady_clock::now() - t0 > std::chrono::seconds(10);
      });
  writer.join();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 3u);
  EXPECT_EQ(seen.back(), 4u);
  EXPECT_LT(first_call, std::chrono::milliseconds(200));
}

TEST(Follow, UntilInThePastEnds) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 10, {});
  auto es = read_all(p, {.until_ns = kT0 + 4 * kSec, .follow = true});
  EXPECT_EQ(numbers(es), range(0, 5));
}

// The reader follows while another thread writes and rotates; every entry
// arrives once, in order, and the reader ends when told to stop.
void follow_while_writing(RotateOptions ro, int n, int tail, int pre) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  if (pre > 0) write_lines(p, pre, ro);
  std::atomic<bool> writer_done{false};
  std::vector<int> got;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto w = Writer::open(p, ro);
    ASSERT_TRUE(w.has_value());
    for (int i = pre; i < pre + n; i++) {
      // Arrives in two pieces: the partial half must not be delivered alone.
      std::string l = line(i);
      ASSERT_TRUE((*w)->write(Stream::Stdout, l.substr(0, 3), kT0 + i).has_value());
      ASSERT_TRUE((*w)->write(Stream::Stdout, l.substr(3), kT0 + i).has_value());
      if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    writer_done = true;
  });
  auto r = read(
      p, {.tail = tail, .follow = true},
      [&](const Entry& e) -> Result<void> {
        got.push_back(std::stoi(e.line.substr(5)));
        return ok();
      },
      [&] { return writer_done.load(); });
  writer.join();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  int first = tail < 0 ? 0 : std::max(0, pre - tail);
  EXPECT_EQ(got, range(first, pre + n));
}

TEST(Follow, AcrossRotationsWhileWriting) {
  follow_while_writing({.max_size = 4096, .max_files = 200}, 10000, -1, 0);
}

TEST(Follow, TailThenFollowAcrossRotations) {
  follow_while_writing({.max_size = 2048, .max_files = 300}, 5000, 7, 100);
}

TEST(Follow, TailZeroSeesOnlyNewEntries) {
  follow_while_writing({.max_size = 8192, .max_files = 100}, 3000, 0, 50);
}

TEST(Follow, WaitsForTheLiveFileToAppear) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    write_lines(p, 4, {});
    done = true;
  });
  std::vector<Entry> got;
  auto r = read(
      p, {.follow = true},
      [&](const Entry& e) -> Result<void> {
        got.push_back(e);
        return ok();
      },
      [&] { return done.load(); });
  writer.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(numbers(got), range(0, 4));
}

}  // namespace
}  // namespace berth::logs
