#include "base/size.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

int64_t ok(std::string_view s) {
  auto r = parse_ram_in_bytes(s);
  EXPECT_TRUE(r) << s << ": " << r.error().message;
  return r ? *r : -1;
}

std::string err(std::string_view s) {
  auto r = parse_ram_in_bytes(s);
  EXPECT_FALSE(r) << s << " parsed as " << (r ? *r : 0);
  return r ? "" : r.error().message;
}

TEST(RamInBytes, NumbersAndSuffixes) {
  EXPECT_EQ(ok("1024"), 1024);
  EXPECT_EQ(ok("0"), 0);
  EXPECT_EQ(ok("4k"), 4096);
  EXPECT_EQ(ok("4K"), 4096);
  EXPECT_EQ(ok("1.5g"), 1610612736);
  EXPECT_EQ(ok("2GiB"), 2147483648LL);
  EXPECT_EQ(ok("2gib"), 2147483648LL);
  EXPECT_EQ(ok("10 MB"), 10485760);
  EXPECT_EQ(ok("7b"), 7);
  EXPECT_EQ(ok("7B"), 7);
  EXPECT_EQ(ok("1t"), 1099511627776LL);
  EXPECT_EQ(ok("1p"), 1125899906842624LL);
  EXPECT_EQ(ok("1."), 1);  // Go's ParseFloat takes either side of the point alone
  EXPECT_EQ(ok(".5k"), 512);
  EXPECT_EQ(ok("1e3"), 1000);  // the number runs to its last digit
  EXPECT_EQ(ok("3 "), 3);
}

TEST(RamInBytes, GoUnitsMessages) {
  EXPECT_EQ(err("abc"), "invalid size: 'abc'");
  EXPECT_EQ(err("m"), "invalid size: 'm'");
  EXPECT_EQ(err("-1"), "invalid size: '-1'");
  EXPECT_EQ(err("-2m"), "invalid size: '-2m'");
  EXPECT_EQ(err("1x"), "invalid suffix: 'x'");
  EXPECT_EQ(err("10X"), "invalid suffix: 'x'");  // shown in lower case, as go-units does
  EXPECT_EQ(err("1kx"), "invalid suffix: 'kx'");
  EXPECT_EQ(err("1bb"), "invalid suffix: 'bb'");
  EXPECT_EQ(err("1kib2"), "strconv.ParseFloat: parsing \"1kib2\": invalid syntax");
  EXPECT_EQ(err("1mibs"), "invalid suffix: 'mibs'");  // too long: as typed
  EXPECT_EQ(err("1MIBS"), "invalid suffix: 'MIBS'");
  EXPECT_EQ(err("1gab"), "invalid suffix: 'gab'");
  EXPECT_EQ(err("1.2.3m"), "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax");
  EXPECT_EQ(err(" m"), "strconv.ParseFloat: parsing \"\": invalid syntax");
  EXPECT_EQ(err("1 2m"), "strconv.ParseFloat: parsing \"1 2\": invalid syntax");
  EXPECT_EQ(err(""), "invalid size: ''");
  EXPECT_EQ(err("9000000p"), "invalid size: '9000000p'");  // past int64
  EXPECT_EQ(err("1e400"), "invalid size: '1e400'");
}

}  // namespace
}  // namespace berth
