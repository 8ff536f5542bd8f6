#include "cli/template.h"

#include <gtest/gtest.h>

#include "cli/container_rows.h"
#include "cli/format.h"

namespace berth::cli {
namespace {

std::string run(const std::string& t, const Json& data, TemplateExecOptions o = {}) {
  auto p = Template::parse(t);
  if (!p) return "PARSE: " + p.error().message;
  auto r = p->execute(data, o);
  if (!r) return "EXEC: " + r.error().message;
  return *r;
}

const Json kImage = Json::parse(R"({
  "Id": "sha256:abc", "RepoTags": ["busybox:latest", "busybox:1.36"], "Size": 4261550,
  "Config": {"Env": ["PATH=/bin", "A=b"], "Cmd": ["sh"], "Labels": {"b": "2", "a": "1"},
             "Empty": "", "Nil": null, "Flag": true},
  "Ratio": 0.5, "Big": 4261550.0
})");

TEST(Template, FieldsAndNesting) {
  EXPECT_EQ(run("{{.Id}}", kImage), "sha256:abc");
  EXPECT_EQ(run("x{{.Config.Cmd}}y", kImage), "x[sh]y");
  EXPECT_EQ(run("{{.Config.Labels}}", kImage), "map[a:1 b:2]");
  EXPECT_EQ(run("{{.Size}}", kImage), "4261550");
  EXPECT_EQ(run("{{.Ratio}}", kImage), "0.5");
  EXPECT_EQ(run("{{.Big}}", kImage), "4261550");
  EXPECT_EQ(run("{{.Config.Nil}}", kImage), "<nil>");
  EXPECT_EQ(run("{{.Nope}}", kImage), "<no value>");
  EXPECT_EQ(run("{{.Config.Flag}}", kImage), "true");
  EXPECT_EQ(run("{{.}}", Json("plain")), "plain");
  EXPECT_EQ(run("no actions", kImage), "no actions");
  EXPECT_EQ(run("", kImage), "");
}

TEST(Template, Json) {
  EXPECT_EQ(run("{{json .Config.Cmd}}", kImage), R"(["sh"])");
  EXPECT_EQ(run("{{json .Config.Labels}}", kImage), R"({"a":"1","b":"2"})");
  EXPECT_EQ(run("{{.Config.Env | json}}", kImage), R"(["PATH=/bin","A=b"])");
  Json row = {{"Repository", "<none>"}, {"Tag", "x&y"}};
  EXPECT_EQ(run("{{json .}}", row), R"({"Repository":"<none>","Tag":"x&y"})");
  TemplateExecOptions o;
  o.root_json_escapes_html = true;
  EXPECT_EQ(run("{{json .}}", row, o), R"({"Repository":"\u003cnone\u003e","Tag":"x\u0026y"})");
  // Only the formatter context itself marshals with HTML escaping.
  EXPECT_EQ(run("{{json .Repository}}", row, o), R"("<none>")");
}

// An answer parsed in the daemon's member order (docker's struct order):
// `json` keeps it, as docker marshals its typed structs; printing and ranging
// go by sorted key, as Go does for maps.
TEST(Template, OrderedDataKeepsOrderForJsonOnly) {
  OrderedJson data = OrderedJson::parse(R"({"Id":"x","State":{"Status":"running","Running":true},
                                           "Labels":{"b":"2","a":"1"}})");
  auto t = Template::parse(
      "{{json .}}|{{json .State}}|{{.State}}|"
      "{{range $k, $v := .Labels}}{{$k}}{{end}}");
  ASSERT_TRUE(t);
  auto r = t->execute(data);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r,
            R"({"Id":"x","State":{"Status":"running","Running":true},"Labels":{"b":"2","a":"1"}})"
            R"(|{"Status":"running","Running":true}|map[Running:true Status:running]|ab)");
}

TEST(Template, RangeIfElse) {
  EXPECT_EQ(run("{{range .Config.Env}}[{{.}}]{{end}}", kImage), "[PATH=/bin][A=b]");
  EXPECT_EQ(run("{{range $i, $e := .RepoTags}}{{$i}}={{$e}} {{end}}", kImage),
            "0=busybox:latest 1=busybox:1.36 ");
  EXPECT_EQ(run("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", kImage), "a:1;b:2;");
  EXPECT_EQ(run("{{range .Config.Nil}}x{{else}}none{{end}}", kImage), "none");
  EXPECT_EQ(run("{{range .Missing}}x{{end}}", kImage), "");
  EXPECT_EQ(run("{{if .Config.Empty}}yes{{else}}no{{end}}", kImage), "no");
  EXPECT_EQ(run("{{if .Config.Flag}}yes{{end}}", kImage), "yes");
  EXPECT_EQ(run("{{if .Nope}}a{{else if .Config.Flag}}b{{else}}c{{end}}", kImage), "b");
  EXPECT_EQ(run("{{if .Nope}}a{{else if .Config.Empty}}b{{else}}c{{end}}", kImage), "c");
  EXPECT_EQ(run("{{with .Config}}{{.Cmd}}{{end}}", kImage), "[sh]");
  EXPECT_EQ(run("{{with .Nope}}x{{else}}y{{end}}", kImage), "y");
  EXPECT_EQ(run("{{range .RepoTags}}{{$.Id}} {{end}}", kImage), "sha256:abc sha256:abc ");
  EXPECT_EQ(run("{{$x := .Id}}{{$x}}", kImage), "sha256:abc");
  EXPECT_EQ(run("{{$x := 1}}{{$x = 2}}{{$x}}", kImage), "2");
}

TEST(Template, Functions) {
  EXPECT_EQ(run("{{upper .Id}}", kImage), "SHA256:ABC");
  EXPECT_EQ(run("{{lower \"AbC\"}}", kImage), "abc");
  EXPECT_EQ(run("{{title \"hello world\"}}", kImage), "Hello World");
  EXPECT_EQ(run("{{join .RepoTags \", \"}}", kImage), "busybox:latest, busybox:1.36");
  EXPECT_EQ(run("{{split \"a:b:c\" \":\"}}", kImage), "[a b c]");
  EXPECT_EQ(run("{{printf \"%s has %d tags\" .Id (len .RepoTags)}}", kImage),
            "sha256:abc has 2 tags");
  EXPECT_EQ(run("{{printf \"%-8s|%5d|%05d|%.2f|%q|%v|%t|%x\" \"ab\" 42 42 3.14159 \"q\" "
                ".Config.Cmd true 255}}",
                kImage),
            "ab      |   42|00042|3.14|\"q\"|[sh]|true|ff");
  EXPECT_EQ(run("{{printf \"%d\" \"x\"}}", kImage), "%!d(string=x)");
  EXPECT_EQ(run("{{printf \"%s\"}}", kImage), "%!s(MISSING)");
  EXPECT_EQ(run("{{printf \"100%%\"}}", kImage), "100%");
  EXPECT_EQ(run("{{len .Config.Env}}", kImage), "2");
  EXPECT_EQ(run("{{index .RepoTags 1}}", kImage), "busybox:1.36");
  EXPECT_EQ(run("{{index .Config.Labels \"a\"}}", kImage), "1");
  EXPECT_EQ(run("{{if eq .Id \"sha256:abc\"}}same{{end}}", kImage), "same");
  EXPECT_EQ(run("{{if ne (len .RepoTags) 2}}x{{else}}y{{end}}", kImage), "y");
  EXPECT_EQ(run("{{if and .Config.Flag (gt .Size 100)}}big{{end}}", kImage), "big");
  EXPECT_EQ(run("{{or .Config.Empty \"default\"}}", kImage), "default");
  EXPECT_EQ(run("{{not .Config.Flag}}", kImage), "false");
  EXPECT_EQ(run("{{truncate .Id 6}}", kImage), "sha256");
  EXPECT_EQ(run("{{pad \"x\" 1 2}}|", kImage), " x  |");
  EXPECT_EQ(run("{{print 1 2 \"a\" \"b\"}}", kImage), "1 2ab");
  EXPECT_EQ(run("{{println \"a\" 1}}", kImage), "a 1\n");
  EXPECT_EQ(run("{{.Id | upper | lower}}", kImage), "sha256:abc");
  EXPECT_EQ(run("{{(index .RepoTags 0) | upper}}", kImage), "BUSYBOX:LATEST");
  EXPECT_EQ(run("{{(.Config).Cmd}}", kImage), "[sh]");
}

TEST(Template, TrimAndComments) {
  EXPECT_EQ(run("a  {{- .Id -}}  b", kImage), "asha256:abcb");
  EXPECT_EQ(run("a {{/* note */}}b", kImage), "a b");
  EXPECT_EQ(run("a {{- /* note */ -}} b", kImage), "ab");
  EXPECT_EQ(run("{{range .RepoTags}}\n  {{- .}}\n{{end}}", kImage),
            "busybox:latest\nbusybox:1.36\n");
  EXPECT_EQ(run("{{\"}}\"}}", kImage), "}}");
  EXPECT_EQ(run("{{`raw\\n`}}", kImage), "raw\\n");
}

TEST(Template, ParseErrors) {
  EXPECT_EQ(run("{{.Id", kImage), "PARSE: template: :1: unclosed action");
  EXPECT_EQ(run("{{foo .Id}}", kImage), "PARSE: template: :1: function \"foo\" not defined");
  EXPECT_EQ(run("{{if .Id}}x", kImage), "PARSE: template: :1: unexpected EOF");
  EXPECT_EQ(run("x{{end}}", kImage), "PARSE: template: :1: unexpected {{end}}");
  EXPECT_EQ(run("{{else}}", kImage), "PARSE: template: :1: unexpected {{else}}");
  EXPECT_EQ(run("{{}}", kImage), "PARSE: template: :1: missing value for command");
  EXPECT_EQ(run("{{if}}x{{end}}", kImage), "PARSE: template: :1: missing value for if");
  EXPECT_EQ(run("{{$x}}", kImage), "PARSE: template: :1: undefined variable \"$x\"");
  EXPECT_EQ(run("\n\n{{.A | .B}}", kImage),
            "PARSE: template: :3: non executable command in pipeline stage 2");
  EXPECT_EQ(run("{{\"abc}}", kImage), "PARSE: template: :1: unclosed action");
  EXPECT_EQ(run("{{(.Id}}", kImage), "PARSE: template: :1: unclosed left paren");
  EXPECT_EQ(run("{{define \"x\"}}{{end}}", kImage),
            "PARSE: template: :1: {{define}} is not supported");
  EXPECT_EQ(run("{{range .A}}{{else}}{{else}}{{end}}", kImage),
            "PARSE: template: :1: expected end; found {{else}}");
}

// docker's Go types whose JSON names differ from their fields (types.Version's
// APIVersion is "ApiVersion").
TEST(Template, GoFieldNames) {
  OrderedJson data = OrderedJson::parse(
      R"({"Client":{"Version":"1","ApiVersion":"1.47"},"Server":{"ApiVersion":"1.45"}})");
  TemplateExecOptions o;
  o.go_field_names = {{"APIVersion", "ApiVersion"}};
  auto t = Template::parse(
      "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Client.ApiVersion}} {{.Client.Nope}} "
      "{{json .}}");
  ASSERT_TRUE(t);
  auto r = t->execute(data, o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "1.47 1.45 1.47 <no value> " + data.dump());
  // Without the option the Go name is unknown: Go's map semantics.
  r = t->execute(data);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "<no value> <no value> 1.47 <no value> " + data.dump());
  // On a strict root, the Go name is a field too.
  o.strict_type = "system.versionInfo";
  EXPECT_EQ(*Template::parse("{{.APIVersion}}")->execute(OrderedJson{{"ApiVersion", "1"}}, o), "1");
}

TEST(Template, ExecErrors) {
  TemplateExecOptions strict;
  strict.strict_type = "*formatter.imageContext";
  EXPECT_EQ(run("{{.Foo}}", Json{{"ID", "x"}}, strict),
            "EXEC: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type "
            "*formatter.imageContext");
  EXPECT_EQ(run("{{.Id.Foo}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <.Id.Foo>: can't evaluate field Foo in type "
            "string");
  EXPECT_EQ(run("{{join .Id}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 "
            "got 1");
  EXPECT_EQ(run("{{upper .Size}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <upper>: error calling upper: expected "
            "string; found 4261550");
  EXPECT_EQ(run("{{index .RepoTags 5}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <index>: error calling index: index out of "
            "range: 5");
  EXPECT_EQ(run("{{range .Id}}x{{end}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <range>: range can't iterate over sha256:abc");
}

TEST(Template, HeaderMode) {
  TemplateExecOptions h;
  h.header = true;
  Json heads = {{"ID", "IMAGE ID"}, {"Repository", "REPOSITORY"}};
  EXPECT_EQ(run("{{.ID}}\t{{upper .Repository}}\t{{json .ID}}", heads, h),
            "IMAGE ID\tREPOSITORY\tIMAGE ID");
}

TEST(Format, PreformatAndNamed) {
  bool table = false;
  EXPECT_EQ(preformat("table {{.ID}}\\t{{.Tag}}", &table), "{{.ID}}\t{{.Tag}}");
  EXPECT_TRUE(table);
  EXPECT_EQ(preformat(" {{.ID}}\\n", &table), "{{.ID}}\n");
  EXPECT_FALSE(table);
  Json heads = {{"ID", "IMAGE ID"}, {"Tag", "TAG"}};
  std::vector<Json> rows = {Json{{"ID", "abc"}, {"Tag", "<none>"}}};
  auto f = ListFormatter::create("json", "table {{.ID}}", heads, "T");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->render(rows), "{\"ID\":\"abc\",\"Tag\":\"\\u003cnone\\u003e\"}\n");
  auto t = ListFormatter::create("table", "table {{.ID}}\t{{.Tag}}", heads, "T");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->render(rows), "IMAGE ID   TAG\nabc        <none>\n");
  auto t2 = ListFormatter::create("table {{.Tag}}", "", heads, "T");
  EXPECT_EQ(*t2->render({}), "TAG\n");
  auto bad = ListFormatter::create("{{.ID", "", heads, "T");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "template parsing error: template: :1: unclosed action");
  auto strict = ListFormatter::create("{{.Nope}}", "", heads, "*formatter.imageContext");
  auto r = strict->render(rows);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate "
            "field Nope in "
            "type *formatter.imageContext");
}

// docker's `.Label "key"` method of container, network and volume rows: the
// row's labels (kRowLabels, never printed as a field), a header from the key.
TEST(Format, LabelMethod) {
  Json heads = {{"Names", "NAMES"}};
  std::vector<Json> rows = {
      Json{{kRowLabels, {{"com.example.app-name", "web"}, {"a", "b"}}}, {"Names", "s1"}},
      Json{{kRowLabels, Json::object()}, {"Names", "s2"}}};
  auto t = ListFormatter::create("table {{.Names}}\t{{.Label \"com.example.app-name\"}}", "", heads,
                                 "*formatter.ContainerContext");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->render(rows), "NAMES     app name\ns1        web\ns2        \n");
  auto j = ListFormatter::create("{{json .}}|{{.Label \"a\"}}", "", heads, "T");
  EXPECT_EQ(*j->render(rows), "{\"Names\":\"s1\"}|b\n{\"Names\":\"s2\"}|\n");
  auto none = ListFormatter::create("{{.Label}}", "", heads, "*formatter.ContainerContext");
  none->set_exec_error_prefix("failed to execute template");
  EXPECT_EQ(none->render(rows).error().message,
            "failed to execute template: template: :1:2: executing \"\" at <.Label>: wrong number "
            "of args for Label: want 1 got 0");
  auto two = ListFormatter::create("{{.Label \"a\" \"b\"}}", "", heads, "T");
  EXPECT_NE(two->render(rows).error().message.find("wrong number of args for Label: want 1 got 2"),
            std::string::npos);
  // A list without the method (images) keeps docker's field error.
  auto images = ListFormatter::create("{{.Label \"a\"}}", "", heads, "*formatter.imageContext");
  EXPECT_NE(images->render({Json{{"Names", "x"}}})
                .error()
                .message.find("can't evaluate field Label in type *formatter.imageContext"),
            std::string::npos);
}

TEST(Template, RootFields) {
  auto fields = [](const char* t) {
    auto p = Template::parse(t);
    EXPECT_TRUE(p) << t;
    return p ? p->root_fields() : FieldSet(std::set<std::string>{"<parse error>"});
  };
  using S = std::set<std::string>;
  EXPECT_EQ(fields("{{.ID}}\t{{.Names}} text"), FieldSet(S{"ID", "Names"}));
  EXPECT_EQ(fields("plain"), FieldSet(S{}));
  EXPECT_EQ(fields("{{range .Labels}}{{.}}{{.Inner}}{{end}}"), FieldSet(S{"Labels"}));
  EXPECT_EQ(fields("{{if .A}}{{.B}}{{else}}{{.C}}{{end}}"), FieldSet(S{"A", "B", "C"}));
  EXPECT_EQ(fields("{{with .A}}{{.B}}{{else}}{{.C}}{{end}}"), FieldSet(S{"A", "C"}));
  EXPECT_EQ(fields("{{(.A).B}} {{printf \"%s\" .Y | upper}}"), FieldSet(S{"A", "Y"}));
  EXPECT_EQ(fields("{{json .}}"), std::nullopt);
  EXPECT_EQ(fields("{{$.X}}"), std::nullopt);
  EXPECT_EQ(fields("{{$x := .A}}{{$x}}"), std::nullopt);
  EXPECT_EQ(fields("{{range .}}{{end}}"), std::nullopt);
  EXPECT_EQ(fields("{{with .}}{{.A}}{{end}}"), std::nullopt);
}

// Rows filled with only the fields a format reads print what full rows do.
TEST(Template, RowsWithOnlyTheFieldsReadPrintTheSame) {
  for (const char* fmt : {"", "table {{.ID}} {{.Names}}", "{{.Status}}|{{.Ports}}", "{{json .}}",
                          "{{if .Labels}}{{.Labels}}{{end}}"}) {
    auto f = ListFormatter::create(fmt, kPsTable, ps_headers(), "*formatter.ContainerContext");
    ASSERT_TRUE(f) << fmt;
    Json c = {{"Id", "0123456789abcdef0123"}, {"Names", {"/web"}},      {"Image", "busybox"},
              {"Command", "sleep 100"},       {"Created", 1000},        {"State", "running"},
              {"Status", "Up 2 minutes"},     {"Labels", {{"a", "b"}}}, {"Ports", Json::array()}};
    auto full = f->render({ps_row(c, true, 1200)});
    auto part = f->render({ps_row(c, true, 1200, f->fields())});
    ASSERT_TRUE(full && part) << fmt;
    EXPECT_EQ(*full, *part) << fmt;
  }
}

}  // namespace
}  // namespace berth::cli
