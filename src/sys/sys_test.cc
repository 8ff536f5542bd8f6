#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sys/signals.h"
#include "sys/syscalls.h"

namespace berth::sys {
namespace {

TEST(Signals, ParsesNamesNumbersAndRealtime) {
  EXPECT_EQ(parse_signal("KILL").value(), SIGKILL);
  EXPECT_EQ(parse_signal("sigterm").value(), SIGTERM);
  EXPECT_EQ(parse_signal("9").value(), 9);
  EXPECT_EQ(parse_signal("SIGRTMIN+2").value(), SIGRTMIN + 2);
  auto bad = parse_signal("FOO");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "unknown signal \"FOO\"");
  EXPECT_FALSE(parse_signal("0").has_value());
  EXPECT_FALSE(parse_signal("SIGRTMAX+1").has_value());
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
}

class RootDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-sys-XXXXXX";
    ASSERT_NE(mkdtemp(t), nullptr);
    dir_ = t;
    outside_ = dir_ + "-outside";
    ASSERT_EQ(mkdir(outside_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/root").c_str(), 0755), 0);
    root_ = Fd(open((dir_ + "/root").c_str(), O_PATH | O_DIRECTORY));
  }
  void TearDown() override {
    std::string cmd = "rm -rf " + dir_ + " " + outside_;
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  std::string dir_, outside_;
  Fd root_;
};

TEST_F(RootDir, SymlinkOutsideRootStaysInside) {
  // root/evil -> <outside>: creating root/evil/x must land inside root, not outside.
  ASSERT_EQ(symlink(outside_.c_str(), (dir_ + "/root/evil").c_str()), 0);
  auto fd = mkdir_all_in_root(root_.get(), "/evil/x", true);
  ASSERT_TRUE(fd.has_value()) << fd.error().message;
  struct stat st;
  EXPECT_NE(stat((outside_ + "/x").c_str(), &st), 0) << "escaped the root";
  EXPECT_EQ(stat((dir_ + "/root" + outside_ + "/x").c_str(), &st), 0);
}

TEST_F(RootDir, DotDotCannotEscape) {
  auto fd = open_in_root(root_.get(), "/../../etc/passwd", O_PATH);
  EXPECT_FALSE(fd.has_value());  // resolves to <root>/etc/passwd, which does not exist
  auto made = mkdir_all_in_root(root_.get(), "/a/b/file", false);
  ASSERT_TRUE(made.has_value()) << made.error().message;
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/root/a/b/file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(RootDir, MkdirAllInRootEveryShape) {
  const std::string r = dir_ + "/root";
  struct stat st;
  auto is_dir = [&](const std::string& p) {
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  };
  auto same = [&](const Result<Fd>& fd, const std::string& p) {
    struct stat a, b;
    return fd && fstat(fd->get(), &a) == 0 && stat(p.c_str(), &b) == 0 && a.st_ino == b.st_ino;
  };
  // Deep, all missing; then there already; then only the leaf missing.
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/a/b/c", true), r + "/a/b/c"));
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/a/b/c", true), r + "/a/b/c"));
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "a/./b/d/", true), r + "/a/b/d"));
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/top", true), r + "/top"));
  // A file leaf, with missing parents and with its parent there.
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/f/g/file", false), r + "/f/g/file"));
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/f/g/file2", false), r + "/f/g/file2"));
  ASSERT_EQ(stat((r + "/f/g/file2").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  // Dangling symlinks, absolute and relative, as the leaf and in the middle:
  // what they point to is made, inside the root.
  ASSERT_EQ(symlink("/made/here", (r + "/a/leaf").c_str()), 0);
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/a/leaf", true), r + "/made/here"));
  ASSERT_EQ(symlink("rel/dir", (r + "/a/mid").c_str()), 0);
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/a/mid/x/y", true), r + "/a/rel/dir/x/y"));
  EXPECT_TRUE(is_dir(r + "/a/rel/dir/x/y"));
  // A file in the way, and "..": errors.
  auto through_file = mkdir_all_in_root(root_.get(), "/f/g/file/x", true);
  ASSERT_FALSE(through_file);
  EXPECT_EQ(through_file.error().sys_errno, ENOTDIR);
  auto dotdot = mkdir_all_in_root(root_.get(), "/a/../b", true);
  ASSERT_FALSE(dotdot);
  EXPECT_EQ(dotdot.error().code, Errc::InvalidArgument);
  EXPECT_FALSE(is_dir(r + "/b"));
  EXPECT_TRUE(same(mkdir_all_in_root(root_.get(), "/", true), r));
}

TEST(Proc, StartTimeOfSelf) {
  auto t = process_start_time(getpid());
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_GT(*t, 0u);
  EXPECT_FALSE(process_start_time(999999999).has_value());
}

TEST(Fds, SendAndReceiveFd) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Fd a(sv[0]), b(sv[1]);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  Fd r(p[0]), w(p[1]);
  ASSERT_TRUE(send_fd(a.get(), w.get(), "pty").has_value());
  auto got = recv_fd(b.get());
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(write(got->get(), "z", 1), 1);
  char c = 0;
  ASSERT_EQ(read(r.get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');
}

}  // namespace
}  // namespace berth::sys
