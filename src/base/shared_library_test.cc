#include "base/shared_library.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace berth {
namespace {

TEST(SharedLibrary, MissingLibraryNamesItAndThePurpose) {
  auto lib = SharedLibrary::open("libberth-no-such-library.so.9", "testing");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code, Errc::FailedPrecondition);
  EXPECT_NE(lib.error().message.find("testing needs libberth-no-such-library.so.9"),
            std::string::npos)
      << lib.error().message;
}

TEST(SharedLibrary, BindsEntryPointsThatWork) {
  auto lib = SharedLibrary::open("libc.so.6", "testing");
  ASSERT_TRUE(lib) << lib.error().message;
  decltype(&::getpid) my_getpid = nullptr;
  lib->bind("getpid", my_getpid);
  ASSERT_TRUE(lib->finish("glibc"));
  ASSERT_NE(my_getpid, nullptr);
  EXPECT_EQ(my_getpid(), ::getpid());
}

TEST(SharedLibrary, ListsEveryMissingSymbol) {
  auto lib = SharedLibrary::open("libc.so.6", "testing");
  ASSERT_TRUE(lib) << lib.error().message;
  decltype(&::getpid) a = nullptr;
  decltype(&::getpid) b = nullptr;
  decltype(&::getpid) c = nullptr;
  lib->bind("berth_absent_one", a);
  lib->bind("getpid", b);
  lib->bind("berth_absent_two", c);
  EXPECT_EQ(a, nullptr);
  EXPECT_NE(b, nullptr);
  auto r = lib->finish("a test requirement");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::FailedPrecondition);
  EXPECT_EQ(r.error().message,
            "libc.so.6 lacks berth_absent_one, berth_absent_two (a test requirement)");
}

}  // namespace
}  // namespace berth
