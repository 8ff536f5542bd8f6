#include "base/json.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(JsonRows, KeepsOnlyTheNamedMembersOfEachElement) {
  const char* text = R"J([
    {"Id": "a", "Net": {"x": {"y": [1, {"z": null}]}, "w": []}, "Names": ["/n"], "N": 5,
     "S": "s", "B": true, "F": 1.5, "E": {}, "A": [], "Status": "Up"},
    {"Net": null, "Id": "b", "Names": [], "Status": "Exited (0)"},
    {}
  ])J";
  auto r = parse_json_rows(text, "list", {"Id", "Names", "Status"});
  ASSERT_TRUE(r) << r.error().message;
  Json want = Json::parse(R"J([
    {"Id": "a", "Names": ["/n"], "Status": "Up"},
    {"Id": "b", "Names": [], "Status": "Exited (0)"},
    {}
  ])J");
  EXPECT_EQ(*r, want);
  // Everything kept: the same tree as parse_json.
  auto all =
      parse_json_rows(text, "list", {"Id", "Net", "Names", "N", "S", "B", "F", "E", "A", "Status"});
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, *parse_json(text, "list"));
  // Deeper members with a kept name are not touched: only depth 2 filters.
  auto deep = parse_json_rows(R"([{"Net": {"Id": 1, "q": 2}, "Id": 3}])", "list", {"Id"});
  ASSERT_TRUE(deep);
  EXPECT_EQ(*deep, Json::parse(R"([{"Id": 3}])"));
  // Not an array of objects: nothing to filter.
  auto obj = parse_json_rows(R"({"Net": 1, "Id": 2})", "list", {"Id"});
  ASSERT_TRUE(obj);
  EXPECT_EQ(*obj, Json::parse(R"({"Net": 1, "Id": 2})"));
}

TEST(JsonRows, ErrorsInSkippedPartsStillFail) {
  for (const char* bad : {R"([{"Net": {"x": [1, }, "Id": "a"}])", R"([{"Net": "x", "Id": )",
                          R"([{"Net": {"a": 1}} ] x)", ""}) {
    auto r = parse_json_rows(bad, "container list", {"Id"});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("container list: invalid JSON"), std::string::npos)
        << r.error().message;
  }
}

TEST(OrderedJson, KeepsTheDocumentsMemberOrderAndReportsErrors) {
  auto r =
      parse_ordered_json(R"({"Zeta": 1, "Alpha": {"b": 2, "a": [3, {"y": 4, "x": 5}]}})", "info");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(dump_json(*r), R"({"Zeta":1,"Alpha":{"b":2,"a":[3,{"y":4,"x":5}]}})");
  auto bad = parse_ordered_json(R"({"a": 1,})", "version response");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_NE(
      bad.error().message.find("version response: invalid JSON: parse error at line 1, column 9"),
      std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse_ordered_json("", "x"));
}

}  // namespace
}  // namespace berth
