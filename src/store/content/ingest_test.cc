#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "base/file.h"
#include "base/scope_exit.h"
#include "store/content/fs_util.h"
#include "store/content/ingest.h"
#include "store/content/test_fixture.h"

namespace berth::content {
namespace {

using namespace std::chrono_literals;

std::string ingest_dir(const std::string& root, std::string_view key) {
  return root + "/ingest/" + detail::ingest_dir_name(key);
}

TEST_F(StoreTest, CommitVerifiesAndPlacesBlob) {
  auto in = must_ingest("k1");
  ASSERT_EQ(in->offset(), 0);
  ASSERT_TRUE(in->write("hello").has_value());
  ASSERT_TRUE(in->write("world").has_value());
  EXPECT_EQ(in->offset(), 10);
  Digest want = sha256_of("helloworld");
  auto info = in->commit(10, want);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->digest, want);
  EXPECT_EQ(info->size, 10);
  EXPECT_EQ(store_->read(want).value(), "helloworld");
  struct stat st;
  ASSERT_EQ(::stat(store_->path(want).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_TRUE(store_->list_ingests()->empty());
  EXPECT_NE(::access(ingest_dir(store_->root(), "k1").c_str(), F_OK), 0);
  // The object is spent.
  EXPECT_EQ(in->write("x").error().code, Errc::FailedPrecondition);
}

TEST_F(StoreTest, UnknownSizeAndDigestAcceptWhatWasWritten) {
  auto in = must_ingest("k");
  ASSERT_TRUE(in->write("abc").has_value());
  auto info = in->commit(-1, Digest());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->digest, sha256_of("abc"));
}

TEST_F(StoreTest, DigestMismatchDeletesPartialAndNamesBoth) {
  auto in = must_ingest("k");
  ASSERT_TRUE(in->write("evil bytes").has_value());
  Digest want = sha256_of("good bytes");
  auto r = in->commit(10, want);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message,
            "digest mismatch: expected " + want.str() + ", got " + sha256_of("evil bytes").str());
  EXPECT_FALSE(store_->exists(want));
  EXPECT_FALSE(store_->exists(sha256_of("evil bytes")));
  EXPECT_TRUE(store_->list_ingests()->empty());
  // A new ingest of the key starts from zero.
  EXPECT_EQ(must_ingest("k")->offset(), 0);
}

TEST_F(StoreTest, SizeMismatchDeletesPartialAndNamesBoth) {
  auto in = must_ingest("k");
  ASSERT_TRUE(in->write("0123456789").has_value());
  Digest want = sha256_of("0123456789");
  auto r = in->commit(5, want);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message, "size mismatch for " + want.str() + ": expected 5 bytes, got 10");
  EXPECT_FALSE(store_->exists(want));
  EXPECT_TRUE(store_->list_ingests()->empty());
}

TEST_F(StoreTest, ResumeAfterObjectDestroyedWithoutCommit) {
  {
    auto in = must_ingest("layer");
    ASSERT_TRUE(in->write("first half|").has_value());
  }  // "crash": the object goes away, the partial data stays
  auto ingests = store_->list_ingests().value();
  ASSERT_EQ(ingests.size(), 1u);
  EXPECT_EQ(ingests[0].key, "layer");
  EXPECT_EQ(ingests[0].size, 11);

  auto in = must_ingest("layer");
  EXPECT_EQ(in->offset(), 11);
  ASSERT_TRUE(in->write("second half").has_value());
  Digest want = sha256_of("first half|second half");
  auto info = in->commit(22, want);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(store_->read(want).value(), "first half|second half");
}

TEST_F(StoreTest, ResumeAfterWriterProcessKilled) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto in = store_->ingest("killed");
    if (!in || !(*in)->write("partial-").has_value()) ::_exit(1);
    char c = 'x';
    (void)!::write(ready[1], &c, 1);
    ::pause();  // holds the lock until SIGKILL
    ::_exit(0);
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  // While the writer lives, its lock keeps others out.
  auto busy = store_->ingest("killed");
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, Errc::Unavailable);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);

  auto in = must_ingest("killed");
  EXPECT_EQ(in->offset(), 8);
  ASSERT_TRUE(in->write("rest").has_value());
  auto info = in->commit(12, sha256_of("partial-rest"));
  ASSERT_TRUE(info.has_value()) << info.error().message;
}

TEST_F(StoreTest, SecondWriterOfSameKeyIsUnavailable) {
  auto a = must_ingest("sha256:same");
  auto b = store_->ingest("sha256:same");
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, Errc::Unavailable);
  EXPECT_EQ(b.error().message, "ingest sha256:same is in use");
  // Another key is independent.
  EXPECT_TRUE(store_->ingest("other").has_value());
  a.reset();
  EXPECT_TRUE(store_->ingest("sha256:same").has_value());
}

TEST_F(StoreTest, ConcurrentThreadsOnOneKeyNeverBothWrite) {
  std::atomic<int> got{0}, refused{0};
  std::vector<std::thread> ts;
  std::atomic<bool> go{false};
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      while (!go) std::this_thread::yield();
      auto in = store_->ingest("race");
      if (!in) {
        if (in.error().code == Errc::Unavailable) ++refused;
        return;
      }
      ++got;
      std::this_thread::sleep_for(50ms);  // hold it while the others try
    });
  }
  go = true;
  for (auto& t : ts) t.join();
  EXPECT_EQ(got + refused, 4);
  EXPECT_GE(got.load(), 1);
  EXPECT_GE(refused.load(), 1);
}

TEST_F(StoreTest, CommitOfExistingBlobDiscardsPartial) {
  auto first = store_->put("shared").value();
  auto in = must_ingest("dup");
  ASSERT_TRUE(in->write("shared").has_value());
  auto info = in->commit(6, first.digest);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->digest, first.digest);
  EXPECT_EQ(info->size, 6);
  EXPECT_TRUE(store_->list_ingests()->empty());
  EXPECT_EQ(store_->list()->size(), 1u);
}

TEST_F(StoreTest, TruncateStartsOver) {
  auto in = must_ingest("t");
  ASSERT_TRUE(in->write("stale junk").has_value());
  ASSERT_TRUE(in->truncate().has_value());
  EXPECT_EQ(in->offset(), 0);
  ASSERT_TRUE(in->write("fresh").has_value());
  auto info = in->commit(5, sha256_of("fresh"));
  ASSERT_TRUE(info.has_value()) << info.error().message;
}

TEST_F(StoreTest, AbortDeletesPartial) {
  auto in = must_ingest("a");
  ASSERT_TRUE(in->write("xx").has_value());
  in->abort();
  EXPECT_TRUE(store_->list_ingests()->empty());
  EXPECT_EQ(in->write("y").error().code, Errc::FailedPrecondition);
}

TEST_F(StoreTest, PruneIngestsByAgeSkipsLockedAndFresh) {
  auto old_time = std::chrono::system_clock::now() - 2h;
  auto make_old = [&](std::string_view key) {
    struct timespec ts[2];
    auto s = std::chrono::duration_cast<std::chrono::seconds>(old_time.time_since_epoch());
    ts[0] = ts[1] = {static_cast<time_t>(s.count()), 0};
    ASSERT_EQ(::utimensat(AT_FDCWD, (ingest_dir(store_->root(), key) + "/data").c_str(), ts, 0), 0);
  };
  must_ingest("old")->write("1").value();
  must_ingest("fresh")->write("2").value();
  auto held = must_ingest("held");
  held->write("3").value();
  make_old("old");
  make_old("held");
  // A temp file a killed put() left behind.
  std::string tmp = store_->root() + "/ingest/put.abcdef";
  ASSERT_TRUE(write_file_atomic(tmp, "x").has_value());
  struct timespec ts[2];
  ts[0] = ts[1] = {::time(nullptr) - 7200, 0};
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp.c_str(), ts, 0), 0);

  auto n = store_->prune_ingests(std::chrono::system_clock::now() - 1h);
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 2);  // "old" and the temp file
  std::vector<std::string> keys;
  auto listed = store_->list_ingests().value();
  for (auto& i : listed) keys.push_back(i.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"fresh", "held"}));
  // The held ingest still works after the prune.
  ASSERT_TRUE(held->write("4").has_value());
  EXPECT_TRUE(held->commit(2, sha256_of("34")).has_value());
}

TEST_F(StoreTest, KeysCannotEscapeTheIngestDirectory) {
  for (std::string key : {"../../escape", "/etc/passwd-berth", "a/../../b", "..", "x\ny"}) {
    auto in = must_ingest(key);
    ASSERT_TRUE(in);
    ASSERT_TRUE(in->write("data").has_value());
  }
  EXPECT_NE(::access((dir_ + "/escape").c_str(), F_OK), 0);
  EXPECT_NE(::access((dir_ + "/content/escape").c_str(), F_OK), 0);
  EXPECT_NE(::access("/etc/passwd-berth", F_OK), 0);
  EXPECT_NE(::access((dir_ + "/b").c_str(), F_OK), 0);
  auto ingests = store_->list_ingests().value();
  ASSERT_EQ(ingests.size(), 5u);
  for (const auto& i : ingests) EXPECT_EQ(i.size, 4);
  EXPECT_EQ(::access(ingest_dir(store_->root(), "../../escape").c_str(), F_OK), 0);
  EXPECT_EQ(detail::ingest_dir_name("..").size(), 64u);
}

TEST(IoError, FullDiskHasPlainWords) {
  auto e = detail::io_error("write ingest k", ENOSPC);
  EXPECT_EQ(e.code, Errc::Io);
  EXPECT_EQ(e.sys_errno, ENOSPC);
  EXPECT_EQ(e.message, "write ingest k: no space left on device");
  EXPECT_EQ(detail::io_error("w", EDQUOT).message, "w: disk quota exceeded");
}

// RLIMIT_FSIZE makes write(2) fail with EFBIG after a short write: the same
// path as ENOSPC (partial write, then an errno), reachable without root.
TEST_F(StoreTest, FileSizeLimitSurfacesAsIoAndLeavesIngestConsistent) {
  auto in = must_ingest("big");
  ASSERT_TRUE(in->write(std::string(64, 'a')).has_value());
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit old_lim;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_lim), 0);
  {
    ScopeExit restore([&] {
      ::setrlimit(RLIMIT_FSIZE, &old_lim);
      ::signal(SIGXFSZ, old_handler);
    });
    struct rlimit lim = old_lim;
    lim.rlim_cur = 100;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    auto r = in->write(std::string(64, 'b'));  // 36 bytes fit, then EFBIG
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::Io);
    EXPECT_EQ(r.error().sys_errno, EFBIG);
    EXPECT_EQ(r.error().message, "write ingest big: file too large");
  }
  EXPECT_EQ(in->offset(), 64);
  struct stat st;
  ASSERT_EQ(::stat((ingest_dir(store_->root(), "big") + "/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64) << "the short write was not rolled back";
  ASSERT_TRUE(in->write(std::string(64, 'b')).has_value());
  auto info = in->commit(128, sha256_of(std::string(64, 'a') + std::string(64, 'b')));
  ASSERT_TRUE(info.has_value()) << info.error().message;
}

// A real full disk: a 64 KiB tmpfs (needs root to mount; skipped otherwise).
TEST_F(StoreTest, FullDiskIsClearAndStoreStaysConsistent) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  std::string mnt = dir_ + "/small";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k"), 0);
  ScopeExit umount([&] { ::umount2(mnt.c_str(), MNT_DETACH); });
  auto s = ContentStore::open(mnt + "/content");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto& store = *s;
  auto in = store->ingest("huge").value();
  std::string chunk(16 << 10, 'z');
  Result<void> r;
  for (int i = 0; i < 16 && r.has_value(); ++i) r = in->write(chunk);
  ASSERT_FALSE(r.has_value()) << "64 KiB tmpfs took 256 KiB";
  EXPECT_EQ(r.error().code, Errc::Io);
  EXPECT_NE(r.error().message.find("no space left on device"), std::string::npos)
      << r.error().message;
  int64_t off = in->offset();
  struct stat st;
  ASSERT_EQ(::stat((ingest_dir(store->root(), "huge") + "/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, off);
  // A small put() that does not fit fails cleanly too: no temp file, no blob.
  auto p = store->put(std::string(32 << 10, 'q'));
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message.find("no space left on device"), std::string::npos);
  EXPECT_TRUE(store->list()->empty());
  int entries = 0;
  if (DIR* d = ::opendir((store->root() + "/ingest").c_str())) {
    while (struct dirent* e = ::readdir(d)) entries += e->d_name[0] != '.';
    ::closedir(d);
  }
  EXPECT_EQ(entries, 1) << "put() left a temp file";
  // The partial write survives for a resume; truncating it frees the space.
  in.reset();
  auto again = store->ingest("huge").value();
  EXPECT_EQ(again->offset(), off);
  ASSERT_TRUE(again->truncate().has_value());
  ASSERT_TRUE(again->write("ok").has_value());
  EXPECT_TRUE(again->commit(2, sha256_of("ok")).has_value());
}

}  // namespace
}  // namespace berth::content
