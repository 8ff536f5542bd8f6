// Compressed rotated files: the writer's background gzip, and the reader
// taking path.k.gz (or a leftover plain path.k) for the entries they hold.
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

// Designated initializers leave the other options at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "logs/gz_internal.h"
#include "logs/json_file.h"
#include "logs/test_util.h"

namespace berth::logs {
namespace {

using testing::exists;
using testing::kSec;
using testing::kT0;
using testing::line;
using testing::numbers;
using testing::range;
using testing::read_all;
using testing::slurp;
using testing::spit;
using testing::TempDir;

// Writes entries first..first+n-1 and waits for the last compression.
void write_lines(const std::string& p, int n, RotateOptions o, int first = 0) {
  auto w = Writer::open(p, o);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  for (int i = first; i < first + n; i++)
    ASSERT_TRUE((*w)->write(Stream::Stdout, line(i), kT0 + i * kSec).has_value());
  (*w)->settle();
}

std::string gunzip(const std::string& gz) {
  gzFile f = gzopen(gz.c_str(), "rb");
  if (!f) return "";
  std::string out;
  char buf[4096];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

TEST(Compress, RotatedFilesAreGzipAndReadBack) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 400, {.max_size = 1000, .max_files = 4, .compress = true});
  EXPECT_TRUE(exists(p));
  for (int k = 1; k <= 3; k++) {
    EXPECT_TRUE(exists(p + "." + std::to_string(k) + ".gz")) << k;
    EXPECT_FALSE(exists(p + "." + std::to_string(k))) << k;
  }
  EXPECT_FALSE(exists(p + ".4.gz"));
  EXPECT_FALSE(exists(p + ".1.gz.tmp"));
  // Real gzip: what any gunzip reads is the json-file text of the rotation.
  std::string one = gunzip(p + ".1.gz");
  ASSERT_FALSE(one.empty());
  EXPECT_EQ(one.front(), '{');
  EXPECT_NE(one.find("\"log\":\"line "), std::string::npos);
  EXPECT_LE(one.size(), 1000u);

  auto all = numbers(read_all(p));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), 399);
  EXPECT_EQ(all, range(all.front(), 400));
  EXPECT_GT(all.size(), 30u);                                      // four files of ~16 entries
  EXPECT_EQ(numbers(read_all(p, {.tail = 40})), range(360, 400));  // reaches into .gz files
  EXPECT_EQ(numbers(read_all(p, {.since_ns = kT0 + 380 * kSec})), range(380, 400));
}

TEST(Compress, ReopenedWriterKeepsRotatingTheSameSet) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  RotateOptions o{.max_size = 1000, .max_files = 3, .compress = true};
  write_lines(p, 100, o);
  write_lines(p, 100, o, 100);  // a restarted container appends
  auto all = numbers(read_all(p));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all, range(all.front(), 200));
  EXPECT_FALSE(exists(p + ".3.gz"));
}

TEST(Compress, PlainLeftoverBesideItsGzipIsReadOnce) {
  // A compression that was killed after the .gz was linked but before the
  // plain file was unlinked leaves both: the entries count once.
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 60, {.max_size = 1000, .max_files = 2});  // plain: c-json.log.1
  ASSERT_TRUE(exists(p + ".1"));
  // The .gz must name the plain file as its source: compress a hard link
  // of it (compress_file unlinks the link, the plain name stays).
  std::string copy = d.path() + "/copy";
  ASSERT_EQ(::link((p + ".1").c_str(), copy.c_str()), 0);
  ASSERT_TRUE(compress_file(copy, p + ".1.gz").has_value());
  ASSERT_TRUE(exists(p + ".1"));
  ASSERT_TRUE(exists(p + ".1.gz"));
  auto all = numbers(read_all(p));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all, range(all.front(), 60));

  // The next rotation moves both forms along; still no entry twice.
  write_lines(p, 40, {.max_size = 1000, .max_files = 3, .compress = true}, 60);
  all = numbers(read_all(p));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all, range(all.front(), 100));
}

TEST(Compress, ForeignOrDamagedGzip) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  write_lines(p, 10, {});
  // A .gz that is not one of berth's is named, not guessed at.
  spit(p + ".1.gz", "not gzip at all");
  std::string err;
  read_all(p, {}, &err);
  EXPECT_NE(err.find(".1.gz"), std::string::npos) << err;
  EXPECT_NE(err.find("not a berth log file"), std::string::npos) << err;

  // A truncated one keeps the entries that decode.
  TempDir d2;
  std::string q = d2.path() + "/c-json.log";
  write_lines(q, 200, {.max_size = 4000, .max_files = 2, .compress = true});
  std::string gz = slurp(q + ".1.gz");
  ASSERT_GT(gz.size(), 100u);
  spit(q + ".1.gz", gz.substr(0, gz.size() / 2));
  auto all = numbers(read_all(q, {}, &err));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), 199);
}

TEST(Compress, FileIdentityFollowsRenameNotInodeNumber) {
  TempDir d;
  std::string a = d.path() + "/a";
  spit(a, "x\n");
  auto id = file_id(a);
  ASSERT_TRUE(id.has_value());
  ASSERT_EQ(::rename(a.c_str(), (a + "2").c_str()), 0);
  auto moved = file_id(a + "2");
  ASSERT_TRUE(moved.has_value());
  EXPECT_TRUE(same_file(*id, *moved));
  FileId other = *id;
  other.btime_ns += 1;  // the same inode number, born at another time
  EXPECT_EQ(same_file(*id, other), id->btime_ns == 0);
  ASSERT_TRUE(compress_file(a + "2", a + ".gz").has_value());
  EXPECT_FALSE(exists(a + "2"));
  int fd = ::open((a + ".gz").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto src = gz_source(fd);
  ::close(fd);
  ASSERT_TRUE(src.has_value()) << src.error().message;
  EXPECT_TRUE(same_file(*src, *id));
  EXPECT_EQ(src->has_gen, id->has_gen) << "the comment carries the generation";
  EXPECT_EQ(src->gen, id->gen);
  EXPECT_EQ(gunzip(a + ".gz"), "x\n");
}

// A rotation can unlink a file and create the next one on the same inode
// within one tick of the coarse clock birth times come from: same number,
// same birth time. The inode generation (where the filesystem keeps one)
// still tells them apart, and a comment without it (older files) matches
// as before.
TEST(Compress, AReusedInodeBornInTheSameTickIsAnotherFile) {
  FileId a{.dev = 1, .ino = 42, .btime_ns = 1000, .gen = 7, .has_gen = true};
  FileId reused{.dev = 1, .ino = 42, .btime_ns = 1000, .gen = 8, .has_gen = true};
  EXPECT_FALSE(same_file(a, reused));
  FileId old_comment{.dev = 1, .ino = 42, .btime_ns = 1000};
  EXPECT_TRUE(same_file(a, old_comment));
  EXPECT_TRUE(same_file(a, a));
  TempDir d;
  std::string p = d.path() + "/p";
  spit(p, "x\n");
  auto id = file_id(p);
  ASSERT_TRUE(id.has_value());
  // Where the filesystem has generations, the reused inode's differs: check
  // that a new file's is read at all (ext4 draws them at random).
  if (id->has_gen) {
    auto again = file_id(p);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->gen, id->gen);
  }
}

// Filesystems without inode generations (tmpfs) tell a reused inode apart by
// the writer's mark; an unmarked side (older files, a filesystem without
// user xattrs) matches as before.
TEST(Compress, MarksTellReusedInodesApartWithoutGenerations) {
  FileId a{.dev = 1, .ino = 42, .btime_ns = 1000, .mark = 0x1234, .has_mark = true};
  FileId reused = a;
  reused.mark = 0x5678;
  EXPECT_FALSE(same_file(a, reused));
  FileId unmarked{.dev = 1, .ino = 42, .btime_ns = 1000};
  EXPECT_TRUE(same_file(a, unmarked));
  EXPECT_TRUE(same_file(a, a));
}

TEST(Compress, SourceCommentRoundTripsAndOlderFormsParse) {
  for (FileId id : {FileId{.dev = 2049, .ino = 77, .btime_ns = 5, .gen = 9, .has_gen = true},
                    FileId{.dev = 1, .ino = 2, .btime_ns = 3, .mark = ~0ULL, .has_mark = true},
                    FileId{.dev = 1,
                    .ino = 2,
                    .btime_ns = 3,
                    .gen = 0,
                    .has_gen = true,
                    .mark = 1,
                    .has_mark = true},
                    FileId{.dev = 1, .ino = 2}}) {
    std::string c = format_source_comment(id);
    auto back = parse_source_comment(c.c_str());
    ASSERT_TRUE(back.has_value()) << c;
    EXPECT_EQ(back->dev, id.dev) << c;
    EXPECT_EQ(back->ino, id.ino) << c;
    EXPECT_EQ(back->btime_ns, id.btime_ns) << c;
    EXPECT_EQ(back->has_gen, id.has_gen) << c;
    EXPECT_EQ(back->gen, id.gen) << c;
    EXPECT_EQ(back->has_mark, id.has_mark) << c;
    EXPECT_EQ(back->mark, id.mark) << c;
  }
  // Written by earlier versions: four fields, then five.
  auto four = parse_source_comment("berth-log-source 1 2 3");
  ASSERT_TRUE(four.has_value());
  EXPECT_FALSE(four->has_gen);
  EXPECT_FALSE(four->has_mark);
  auto five = parse_source_comment("berth-log-source 1 2 3 4");
  ASSERT_TRUE(five.has_value());
  EXPECT_TRUE(five->has_gen);
  EXPECT_EQ(five->gen, 4u);
  for (const char* bad : {"berth-log-source 1 2", "other-tag 1 2 3", "berth-log-source 1 2 3 x",
                          "berth-log-source 1 2 3 4 q12", "berth-log-source 1 2 3 4 m",
                          "berth-log-source 1 2 3 - m0", "berth-log-source 1 2 3 99999999999"}) {
    auto r = parse_source_comment(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument) << bad;
  }
}

bool takes_user_xattrs(const std::string& dir) {
  std::string p = dir + "/xattr-probe";
  spit(p, "");
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  uint64_t v = 1;
  bool ok = fd >= 0 && ::fsetxattr(fd, "user.berth.probe", &v, sizeof v, 0) == 0;
  if (fd >= 0) ::close(fd);
  ::unlink(p.c_str());
  return ok;
}

// Every live file the writer makes carries its own mark from the moment it
// has a name, the mark travels into the gzip comment, and a name taken by a
// leftover is replaced. On ext4 (the tests' /tmp here) and on tmpfs, which
// has no generations; a filesystem without user xattrs gets unmarked files.
TEST(Compress, WriterMarksEachLiveFileItCreates) {
  std::vector<std::string> bases = {"/tmp"};
  if (exists("/dev/shm")) bases.push_back("/dev/shm");
  for (const auto& base : bases) {
    SCOPED_TRACE(base);
    TempDir d(base);
    ASSERT_FALSE(d.path().empty());
    const bool marks = takes_user_xattrs(d.path());
    std::string p = d.path() + "/m-json.log";
    auto w = Writer::open(p, {.max_size = 400, .max_files = 3, .compress = true});
    ASSERT_TRUE(w.has_value());
    auto first = file_id(p);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->has_mark, marks);
    for (int i = 0; i < 8; i++) ASSERT_TRUE((*w)->write(Stream::Stdout, line(i), kT0 + i));
    (*w)->settle();
    auto live = file_id(p);
    ASSERT_TRUE(live.has_value());
    EXPECT_EQ(live->has_mark, marks);
    int fd = ::open((p + ".1.gz").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto src = gz_source(fd);
    ::close(fd);
    ASSERT_TRUE(src.has_value()) << src.error().message;
    EXPECT_EQ(src->has_mark, marks);
    if (marks) {
      EXPECT_NE(src->mark, live->mark);
    }
    EXPECT_FALSE(same_file(*src, *live));
    auto all = read_all(p);
    EXPECT_EQ(numbers(all), range(0, 8));

    std::string q = d.path() + "/q";
    spit(q, "leftover\n");
    auto f = create_log_file(q);
    ASSERT_TRUE(f.has_value()) << f.error().message;
    EXPECT_EQ(slurp(q), "") << "a leftover under the name is replaced";
    auto qid = file_id(q);
    ASSERT_TRUE(qid.has_value());
    EXPECT_EQ(qid->has_mark, marks);
  }
}

// Follows while the writer rotates and compresses underneath: every entry
// once, in order.
TEST(Compress, FollowAcrossCompressedRotations) {
  TempDir d;
  std::string p = d.path() + "/c-json.log";
  RotateOptions ro{.max_size = 2048, .max_files = 50, .compress = true};
  std::atomic<bool> writer_done{false};
  std::vector<int> got;
  constexpr int kN = 3000;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto w = Writer::open(p, ro);
    ASSERT_TRUE(w.has_value());
    for (int i = 0; i < kN; i++) {
      ASSERT_TRUE((*w)->write(Stream::Stdout, line(i), kT0 + i).has_value());
      if (i % 300 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    (*w)->settle();
    writer_done = true;
  });
  auto r = read(
      p, {.follow = true},
      [&](const Entry& e) -> Result<void> {
        got.push_back(std::stoi(e.line.substr(5)));
        return ok();
      },
      [&] { return writer_done.load(); });
  writer.join();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(got, range(0, kN));
  EXPECT_TRUE(exists(p + ".1.gz"));
}

}  // namespace
}  // namespace berth::logs
