#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "store/content/test_fixture.h"

namespace berth::content {
namespace {

TEST_F(StoreTest, OpenCreatesLayout) {
  struct stat st;
  EXPECT_EQ(::stat((dir_ + "/content/blobs/sha256").c_str(), &st), 0);
  EXPECT_EQ(::stat((dir_ + "/content/ingest").c_str(), &st), 0);
  EXPECT_EQ(store_->root(), dir_ + "/content");
  // Opening again over an existing store is fine.
  EXPECT_TRUE(ContentStore::open(dir_ + "/content/").has_value());
  EXPECT_FALSE(ContentStore::open("").has_value());
}

TEST_F(StoreTest, PutIsIdempotentAndReadable) {
  auto a = store_->put("{\"schemaVersion\":2}");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->digest, sha256_of("{\"schemaVersion\":2}"));
  EXPECT_EQ(a->size, 19);
  auto b = store_->put("{\"schemaVersion\":2}");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->digest, a->digest);
  EXPECT_TRUE(store_->exists(a->digest));
  EXPECT_EQ(store_->read(a->digest).value(), "{\"schemaVersion\":2}");
  EXPECT_EQ(store_->info(a->digest)->size, 19);
  EXPECT_EQ(store_->path(a->digest), dir_ + "/content/blobs/sha256/" + a->digest.hex());
  auto all = store_->list().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].digest, a->digest);
  EXPECT_EQ(all[0].size, 19);
  auto fd = store_->open_blob(a->digest);
  ASSERT_TRUE(fd.has_value());
  char buf[4];
  EXPECT_EQ(::read(fd->get(), buf, 4), 4);
  EXPECT_TRUE(store_->list_ingests()->empty());
}

TEST_F(StoreTest, EmptyBlob) {
  auto a = store_->put("");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->digest.str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(store_->read(a->digest).value(), "");
}

TEST_F(StoreTest, ReadRefusesBlobsOverLimit) {
  auto a = store_->put("0123456789").value();
  auto r = store_->read(a.digest, 3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message, "blob " + a.digest.str() + " is 10 bytes, more than the 3 allowed");
}

TEST_F(StoreTest, MissingBlobIsNotFoundWithItsName) {
  Digest d = sha256_of("nope");
  EXPECT_FALSE(store_->exists(d));
  auto i = store_->info(d);
  ASSERT_FALSE(i.has_value());
  EXPECT_EQ(i.error().code, Errc::NotFound);
  EXPECT_EQ(i.error().message, "blob " + d.str() + " not found");
  EXPECT_EQ(store_->open_blob(d).error().code, Errc::NotFound);
  EXPECT_EQ(store_->read(d).error().code, Errc::NotFound);
  EXPECT_EQ(store_->remove(d).error().code, Errc::NotFound);
  EXPECT_FALSE(store_->exists(Digest()));
}

TEST_F(StoreTest, RemoveDeletes) {
  auto a = store_->put("bye").value();
  ASSERT_TRUE(store_->remove(a.digest).has_value());
  EXPECT_FALSE(store_->exists(a.digest));
  EXPECT_TRUE(store_->list()->empty());
}

TEST_F(StoreTest, ListSkipsForeignNames) {
  store_->put("x").value();
  ASSERT_TRUE(write_file_atomic(dir_ + "/content/blobs/sha256/not-a-digest", "y").has_value());
  EXPECT_EQ(store_->list()->size(), 1u);
}

TEST_F(StoreTest, PutFileOnSameFileSystemMovesIt) {
  std::string f = dir_ + "/layer.tar";
  ASSERT_TRUE(write_file_atomic(f, "tar bytes").has_value());
  auto info = store_->put_file(f);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->digest, sha256_of("tar bytes"));
  EXPECT_EQ(info->size, 9);
  EXPECT_NE(::access(f.c_str(), F_OK), 0) << "the file is consumed";
  EXPECT_EQ(store_->read(info->digest).value(), "tar bytes");
  struct stat st;
  ASSERT_EQ(::stat(store_->path(info->digest).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
}

TEST_F(StoreTest, PutFileOfExistingBlobConsumesTheFile) {
  auto a = store_->put("same").value();
  std::string f = dir_ + "/again";
  ASSERT_TRUE(write_file_atomic(f, "same").has_value());
  auto info = store_->put_file(f);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->digest, a.digest);
  EXPECT_NE(::access(f.c_str(), F_OK), 0);
}

TEST_F(StoreTest, PutFileFromAnotherFileSystemCopies) {
  struct stat a, b;
  if (::stat("/dev/shm", &a) != 0 || ::stat(dir_.c_str(), &b) != 0 || a.st_dev == b.st_dev)
    GTEST_SKIP() << "/dev/shm is not a separate file system here";
  std::string f = "/dev/shm/berth-content-test-" + std::to_string(::getpid());
  ASSERT_TRUE(write_file_atomic(f, "from elsewhere").has_value());
  auto info = store_->put_file(f);
  ::unlink(f.c_str());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(store_->read(info->digest).value(), "from elsewhere");
  EXPECT_TRUE(store_->list_ingests()->empty());
}

TEST_F(StoreTest, PutFileOfMissingFileIsNotFound) {
  auto r = store_->put_file(dir_ + "/missing");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

}  // namespace
}  // namespace berth::content

namespace berth::content {
namespace {

TEST_F(StoreTest, PutFileCopiesSymlinkTargetsAndHardLinkedFiles) {
  std::string target = dir_ + "/target";
  ASSERT_TRUE(write_file_atomic(target, "linked bytes").has_value());
  std::string link = dir_ + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto info = store_->put_file(link);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  struct stat st;
  ASSERT_EQ(::lstat(store_->path(info->digest).c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "a symlink became a blob";
  EXPECT_NE(::lstat(link.c_str(), &st), 0) << "the link is consumed";
  EXPECT_EQ(::access(target.c_str(), F_OK), 0) << "its target is not";

  std::string target2 = dir_ + "/target2";
  ASSERT_TRUE(write_file_atomic(target2, "other bytes").has_value());
  std::string other = dir_ + "/other-name";
  ASSERT_EQ(::link(target2.c_str(), other.c_str()), 0);
  auto info2 = store_->put_file(other);
  ASSERT_TRUE(info2.has_value()) << info2.error().message;
  EXPECT_EQ(info2->digest, sha256_of("other bytes"));
  EXPECT_NE(::access(other.c_str(), F_OK), 0);
  ASSERT_EQ(::stat(target2.c_str(), &st), 0);
  struct stat blob;
  ASSERT_EQ(::stat(store_->path(info2->digest).c_str(), &blob), 0);
  EXPECT_NE(st.st_ino, blob.st_ino) << "a file with another link became the blob";
}

}  // namespace
}  // namespace berth::content
