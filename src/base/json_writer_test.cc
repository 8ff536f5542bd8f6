#include "base/json_writer.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(JsonWriter, NestedDocumentWithCommasAndColons) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("a", 1).field("b", "x").field("c", true);
  w.key("d").begin_array().value(-5).null().begin_object().end_object().begin_array().end_array();
  w.end_array();
  w.key("e").begin_object().field("f", false).end_object();
  w.key("g").strings({"p", "q"});
  w.key("h").strings({}, /*null_if_empty=*/true);
  w.key("i").strings({});
  w.key("j").string_map({{"z", "1"}, {"a", "2"}});
  w.key("k").value(Json{{"n", 1}});
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":"x","c":true,"d":[-5,null,{},[]],"e":{"f":false},"g":["p","q"],)"
                 R"("h":null,"i":[],"j":{"a":"2","z":"1"},"k":{"n":1}})");
}

TEST(JsonWriter, StringsEscapeAsDumpJson) {
  // Quotes, backslashes, control characters, DEL, valid and invalid UTF-8:
  // each must come out exactly as dump_json writes it.
  const std::vector<std::string> cases = {"",
                                          "plain text 123",
                                          "say \"hi\"",
                                          "back\\slash",
                                          "tab\there",
                                          "nl\nx",
                                          std::string("nul\0x", 5),
                                          "\x7f",
                                          "caf\xc3\xa9",
                                          "\xe2\x82\xac euro",
                                          "bad \xff byte",
                                          "cut \xc3",
                                          "/slash"};
  for (const auto& s : cases) {
    std::string out;
    JsonWriter(out).value(s);
    EXPECT_EQ(out, dump_json(Json(s))) << s;
    std::string keyed;
    JsonWriter kw(keyed);
    kw.begin_object().field(s, s).end_object();
    Json j;
    j[s] = s;
    // Invalid UTF-8 is replaced in keys and values alike.
    EXPECT_EQ(keyed, dump_json(j)) << s;
  }
}

TEST(JsonWriter, ParsesBackToTheSameTree) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  for (int i = 0; i < 3; ++i) {
    w.begin_object().field("i", i).field("name", "n\"" + std::to_string(i));
    w.key("max").value(int64_t{9007199254740993});
    w.end_object();
  }
  w.end_array();
  auto j = parse_json(out, "writer output");
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_EQ(j->size(), 3u);
  EXPECT_EQ((*j)[2]["name"], "n\"2");
  EXPECT_EQ((*j)[1]["max"].get<int64_t>(), 9007199254740993);
}

}  // namespace
}  // namespace berth
