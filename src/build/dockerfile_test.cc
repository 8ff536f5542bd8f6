#include "build/dockerfile.h"

#include <gtest/gtest.h>

namespace berth::build {
namespace {

using V = std::vector<std::string>;

Dockerfile parse_ok(std::string_view text) {
  auto r = parse_dockerfile(text);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Dockerfile{};
}

std::string parse_err(std::string_view text) {
  auto r = parse_dockerfile(text);
  EXPECT_FALSE(r) << text;
  if (r) return "";
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  return r.error().message;
}

const Instruction& at(const Dockerfile& df, size_t i) {
  static const Instruction kNone;
  EXPECT_LT(i, df.instructions.size());
  return i < df.instructions.size() ? df.instructions[i] : kNone;
}

TEST(Dockerfile, EveryInstructionForm) {
  Dockerfile df = parse_ok(R"(FROM --platform=linux/amd64 busybox AS base
RUN echo hi
RUN ["echo", "hi"]
CMD ["sh"]
CMD echo x
ENTRYPOINT ["/bin/sh", "-c"]
ENTRYPOINT exec top -b
LABEL a=b "c d"="e f"
LABEL single value here
MAINTAINER Jane Doe <j@example.com>
EXPOSE 80/tcp  443
ENV A=1 B="two words"
ENV legacy value  with spaces
ADD --chown=1:1 a.tar /dst/
COPY --from=base /a /b /dst/
COPY ["a b", "/c"]
VOLUME /data /logs
VOLUME ["/v"]
USER 1000:1000
WORKDIR /app dir
ARG NAME
ARG V=1 W
ONBUILD RUN make
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/
HEALTHCHECK CMD ["curl", "x"]
HEALTHCHECK NONE
SHELL ["/bin/bash", "-c"]
)");
  ASSERT_EQ(df.instructions.size(), 28u);
  EXPECT_EQ(df.escape, '\\');
  EXPECT_TRUE(df.warnings.empty());

  const Instruction& from = at(df, 0);
  EXPECT_EQ(from.keyword, "FROM");
  EXPECT_EQ(from.flags, V{"--platform=linux/amd64"});
  EXPECT_EQ(from.args, (V{"busybox", "AS", "base"}));
  EXPECT_EQ(from.line, 1);
  EXPECT_EQ(from.original, "FROM --platform=linux/amd64 busybox AS base");

  EXPECT_EQ(at(df, 1).args, V{"echo hi"});
  EXPECT_FALSE(at(df, 1).json_form);
  EXPECT_EQ(at(df, 2).args, (V{"echo", "hi"}));
  EXPECT_TRUE(at(df, 2).json_form);
  EXPECT_EQ(at(df, 3).args, V{"sh"});
  EXPECT_TRUE(at(df, 3).json_form);
  EXPECT_EQ(at(df, 4).args, V{"echo x"});
  EXPECT_FALSE(at(df, 4).json_form);
  EXPECT_EQ(at(df, 5).args, (V{"/bin/sh", "-c"}));
  EXPECT_TRUE(at(df, 5).json_form);
  EXPECT_EQ(at(df, 6).args, V{"exec top -b"});

  EXPECT_EQ(at(df, 7).keyword, "LABEL");
  EXPECT_EQ(at(df, 7).args, (V{"a", "b", "\"c d\"", "\"e f\""}));
  EXPECT_EQ(at(df, 8).args, (V{"single", "value here"}));
  EXPECT_EQ(at(df, 9).args, V{"Jane Doe <j@example.com>"});
  EXPECT_EQ(at(df, 10).args, (V{"80/tcp", "443"}));
  EXPECT_EQ(at(df, 11).args, (V{"A", "1", "B", "\"two words\""}));
  EXPECT_EQ(at(df, 12).args, (V{"legacy", "value  with spaces"}));

  EXPECT_EQ(at(df, 13).keyword, "ADD");
  EXPECT_EQ(at(df, 13).flags, V{"--chown=1:1"});
  EXPECT_EQ(at(df, 13).args, (V{"a.tar", "/dst/"}));
  EXPECT_EQ(at(df, 14).flags, V{"--from=base"});
  EXPECT_EQ(at(df, 14).args, (V{"/a", "/b", "/dst/"}));
  EXPECT_FALSE(at(df, 14).json_form);
  EXPECT_EQ(at(df, 15).args, (V{"a b", "/c"}));
  EXPECT_TRUE(at(df, 15).json_form);

  EXPECT_EQ(at(df, 16).args, (V{"/data", "/logs"}));
  EXPECT_FALSE(at(df, 16).json_form);
  EXPECT_EQ(at(df, 17).args, V{"/v"});
  EXPECT_TRUE(at(df, 17).json_form);
  EXPECT_EQ(at(df, 18).args, V{"1000:1000"});
  EXPECT_EQ(at(df, 19).args, V{"/app dir"});
  EXPECT_EQ(at(df, 20).args, V{"NAME"});
  EXPECT_EQ(at(df, 21).args, (V{"V=1", "W"}));
  EXPECT_EQ(at(df, 22).keyword, "ONBUILD");
  EXPECT_EQ(at(df, 22).args, V{"RUN make"});
  EXPECT_EQ(at(df, 23).args, V{"SIGTERM"});

  const Instruction& hc = at(df, 24);
  EXPECT_EQ(hc.keyword, "HEALTHCHECK");
  EXPECT_EQ(hc.flags, (V{"--interval=5s", "--retries=3"}));
  EXPECT_EQ(hc.args, (V{"CMD", "curl -f http://x/"}));
  EXPECT_FALSE(hc.json_form);
  EXPECT_EQ(at(df, 25).args, (V{"CMD", "curl", "x"}));
  EXPECT_TRUE(at(df, 25).json_form);
  EXPECT_EQ(at(df, 26).args, V{"NONE"});
  EXPECT_EQ(at(df, 27).keyword, "SHELL");
  EXPECT_EQ(at(df, 27).args, (V{"/bin/bash", "-c"}));
  EXPECT_TRUE(at(df, 27).json_form);
  EXPECT_EQ(at(df, 27).line, 28);
}

TEST(Dockerfile, KeywordsAndHealthcheckTypeAreCaseInsensitive) {
  Dockerfile df = parse_ok("from busybox as Base\nhealthcheck cmd true\nRun echo\n");
  EXPECT_EQ(at(df, 0).keyword, "FROM");
  EXPECT_EQ(at(df, 0).args, (V{"busybox", "as", "Base"}));
  EXPECT_EQ(at(df, 1).args, (V{"CMD", "true"}));
  EXPECT_EQ(at(df, 2).keyword, "RUN");
  // The original keeps the spelling (docker's step lines show it).
  EXPECT_EQ(at(df, 2).original, "Run echo");
}

TEST(Dockerfile, ContinuationsJoinWithoutSeparator) {
  Dockerfile df = parse_ok(
      "FROM a\n"
      "RUN apt-get update && \\\n"
      "    apt-get install -y x\n"
      "RUN one \\  \t\n"  // blanks after the escape still continue
      "two\n");
  ASSERT_EQ(df.instructions.size(), 3u);
  EXPECT_EQ(at(df, 1).args, V{"apt-get update &&     apt-get install -y x"});
  EXPECT_EQ(at(df, 1).original, "RUN apt-get update &&     apt-get install -y x");
  EXPECT_EQ(at(df, 1).line, 2);
  EXPECT_EQ(at(df, 2).args, V{"one two"});
  EXPECT_EQ(at(df, 2).line, 4);
}

TEST(Dockerfile, DoubledEscapeAtEndStillContinues) {
  // Docker's continuation test is "escape, blanks, end of line", so `\\`
  // at the end continues too, keeping the first backslash.
  Dockerfile df = parse_ok("FROM a\nRUN echo \\\\\nfoo\n");
  EXPECT_EQ(at(df, 1).args, V{"echo \\foo"});
}

TEST(Dockerfile, CommentsAndBlankLinesInsideContinuations) {
  Dockerfile df = parse_ok(
      "FROM a\n"
      "RUN a \\\n"
      "# a comment\n"
      "   # an indented comment\n"
      "    b\n"
      "RUN c\n");
  ASSERT_EQ(df.instructions.size(), 3u);
  EXPECT_EQ(at(df, 1).args, V{"a     b"});
  EXPECT_TRUE(df.warnings.empty());
  EXPECT_EQ(at(df, 2).line, 6);

  Dockerfile w = parse_ok("FROM a\nRUN a \\\n\n   \n    b\n");
  EXPECT_EQ(at(w, 1).args, V{"a     b"});
  EXPECT_EQ(w.warnings,
            (V{"[WARNING]: Empty continuation line found in: RUN a     b",
               "[WARNING]: Empty continuation lines will become errors in a future release."}));
}

TEST(Dockerfile, CommentsOnlyAtTheStartOfALine) {
  Dockerfile df = parse_ok("  # indented comment\nFROM a\nRUN echo # not a comment\n");
  ASSERT_EQ(df.instructions.size(), 2u);
  EXPECT_EQ(at(df, 1).args, V{"echo # not a comment"});
}

TEST(Dockerfile, EscapeDirectiveBacktick) {
  Dockerfile df = parse_ok(
      "# escape=`\n"
      "FROM windows\n"
      "RUN dir c:\\ `\n"
      "    && echo x\n"
      "COPY a\\b c:\\dst\\\n"
      "ENV P=a` b\n");
  EXPECT_EQ(df.escape, '`');
  ASSERT_EQ(df.instructions.size(), 4u);
  EXPECT_EQ(at(df, 0).line, 2);
  EXPECT_EQ(at(df, 1).args, V{"dir c:\\     && echo x"});
  EXPECT_EQ(at(df, 1).line, 3);
  EXPECT_EQ(at(df, 2).args, (V{"a\\b", "c:\\dst\\"}));
  EXPECT_EQ(at(df, 2).line, 5);
  // The escape character keeps a space inside an ENV word.
  EXPECT_EQ(at(df, 3).args, (V{"P", "a` b"}));
}

TEST(Dockerfile, DirectivesOnlyBeforeAnythingElse) {
  // Spelling, spaces and case of the key are free; syntax is read and ignored.
  EXPECT_EQ(parse_ok("# syntax=docker/dockerfile:1\n#  ESCAPE = `\nFROM a\n").escape, '`');
  // After another comment, a blank line or an instruction it is a comment.
  EXPECT_EQ(parse_ok("# hello\n# escape=`\nFROM a\n").escape, '\\');
  EXPECT_EQ(parse_ok("\n# escape=`\nFROM a\n").escape, '\\');
  Dockerfile df = parse_ok("FROM a\n# escape=`\nRUN b `\n");
  EXPECT_EQ(df.escape, '\\');
  EXPECT_EQ(at(df, 1).args, V{"b `"});
  // An unknown directive ends the directives too.
  EXPECT_EQ(parse_ok("# foo=bar\n# escape=`\nFROM a\n").escape, '\\');
}

TEST(Dockerfile, DirectiveErrors) {
  EXPECT_EQ(parse_err("# escape=`\n# escape=\\\nFROM a\n"),
            "dockerfile parse error on line 2: only one escape parser directive can be used");
  EXPECT_EQ(parse_err("# escape=x\nFROM a\n"),
            "dockerfile parse error on line 1: invalid escape token 'x' does not match ` or \\");
}

TEST(Dockerfile, JsonOrShellForm) {
  Dockerfile df = parse_ok(
      "FROM a\n"
      "RUN [\"echo\", \"a\"\n"                // not closed: shell form
      "CMD [ \"a\\\"b\" , \"\\u00e9\" ]  \n"  // escapes decoded
      "ENTRYPOINT []\n"
      "COPY [\"a\", \"b\"] extra\n"  // trailing text: not JSON, words
      "CMD [\"a\", 'b']\n"           // single quotes are not JSON
      "VOLUME [\"/a\",\n");
  EXPECT_EQ(at(df, 1).args, V{"[\"echo\", \"a\""});
  EXPECT_FALSE(at(df, 1).json_form);
  EXPECT_EQ(at(df, 2).args, (V{"a\"b", "\xC3\xA9"}));
  EXPECT_TRUE(at(df, 2).json_form);
  EXPECT_TRUE(at(df, 3).args.empty());
  EXPECT_TRUE(at(df, 3).json_form);
  EXPECT_EQ(at(df, 4).args, (V{"[\"a\",", "\"b\"]", "extra"}));
  EXPECT_FALSE(at(df, 4).json_form);
  EXPECT_EQ(at(df, 5).args, V{"[\"a\", 'b']"});
  EXPECT_EQ(at(df, 6).args, (V{"[\"/a\","}));

  EXPECT_EQ(parse_err("FROM a\nCMD [\"a\", 1]\n"),
            "dockerfile parse error on line 2: when using JSON array syntax, arrays must be "
            "comprised of strings only");
  EXPECT_EQ(parse_err("FROM a\nCOPY [[\"a\"], \"b\"]\n"),
            "dockerfile parse error on line 2: when using JSON array syntax, arrays must be "
            "comprised of strings only");
}

TEST(Dockerfile, ShellFormWordsAreSplitOnBlanksOnly) {
  // Quotes do not group in shell-form COPY, as in docker.
  Dockerfile df = parse_ok("FROM a\nCOPY \"a b\" c\n");
  EXPECT_EQ(at(df, 1).args, (V{"\"a", "b\"", "c"}));
}

TEST(Dockerfile, QuotesAndEscapesStayInEnvLabelArgWords) {
  Dockerfile df = parse_ok(
      "FROM a\n"
      "ENV A=\"x y\" B='z w' C=x\\ y D=\"\"\n"
      "LABEL \"com.x\"=\"v 1\" b=2\n"
      "ARG A=\"x y\" B\n"
      "ENV E=\n");
  EXPECT_EQ(at(df, 1).args, (V{"A", "\"x y\"", "B", "'z w'", "C", "x\\ y", "D", "\"\""}));
  EXPECT_EQ(at(df, 2).args, (V{"\"com.x\"", "\"v 1\"", "b", "2"}));
  EXPECT_EQ(at(df, 3).args, (V{"A=\"x y\"", "B"}));
  EXPECT_EQ(at(df, 4).args, (V{"E", ""}));
}

TEST(Dockerfile, Flags) {
  Dockerfile df = parse_ok(
      "FROM a\n"
      "COPY --from=build --chown=\"1:1\" src dst\n"
      "COPY -- --weird dst\n"
      "RUN --mount=type=cache,target=/x echo hi\n"
      "RUN --network=none\n"
      "COPY --link a b\n");
  EXPECT_EQ(at(df, 1).flags, (V{"--from=build", "--chown=1:1"}));
  EXPECT_EQ(at(df, 1).args, (V{"src", "dst"}));
  EXPECT_TRUE(at(df, 2).flags.empty());
  EXPECT_EQ(at(df, 2).args, (V{"--weird", "dst"}));
  EXPECT_EQ(at(df, 3).flags, V{"--mount=type=cache,target=/x"});
  EXPECT_EQ(at(df, 3).args, V{"echo hi"});
  EXPECT_EQ(at(df, 4).flags, V{"--network=none"});
  EXPECT_TRUE(at(df, 4).args.empty());
  EXPECT_EQ(at(df, 5).flags, V{"--link"});
  EXPECT_EQ(at(df, 5).args, (V{"a", "b"}));

  EXPECT_EQ(parse_err("FROM a\nCOPY --=x a b\n"),
            "dockerfile parse error on line 2: invalid flag \"--=x\" on COPY: expected --name or "
            "--name=value");
}

TEST(Dockerfile, UnknownInstruction) {
  EXPECT_EQ(parse_err("FROM busybox\nFOOBAR x\n"),
            "dockerfile parse error on line 2: unknown instruction: FOOBAR");
  EXPECT_EQ(parse_err("FROM busybox\nRUN a\n&& b\n"),
            "dockerfile parse error on line 3: unknown instruction: &&");
  EXPECT_EQ(parse_err("apt-get install\n"),
            "dockerfile parse error on line 1: unknown instruction: APT-GET");
}

TEST(Dockerfile, MissingArguments) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"FROM", "FROM requires either one or three arguments"},
      {"FROM a b", "FROM requires either one or three arguments"},
      {"FROM a AS b c", "FROM requires either one or three arguments"},
      {"FROM a AS 1x",
       "invalid name for build stage: \"1x\", name can't start with a number or contain symbols"},
      {"ENV", "ENV requires at least one argument"},
      {"ENV a", "ENV must have two arguments"},
      {"ENV a=b c", "Syntax error - can't find = in \"c\". Must be of the form: name=value"},
      {"ENV =x", "ENV names can not be blank"},
      {"LABEL", "LABEL requires at least one argument"},
      {"LABEL k", "LABEL must have two arguments"},
      {"WORKDIR", "WORKDIR requires exactly one argument"},
      {"USER", "USER requires exactly one argument"},
      {"STOPSIGNAL", "STOPSIGNAL requires exactly one argument"},
      {"MAINTAINER", "MAINTAINER requires exactly one argument"},
      {"COPY a",
       "COPY requires at least two arguments, but only one was provided. Destination could not "
       "be determined"},
      {"ADD",
       "ADD requires at least two arguments, but only one was provided. Destination could not "
       "be determined"},
      {"EXPOSE", "EXPOSE requires at least one argument"},
      {"VOLUME", "VOLUME requires at least one argument"},
      {"VOLUME [\"\"]", "VOLUME specified can not be an empty string"},
      {"ARG", "ARG requires at least one argument"},
      {"ARG =x", "ARG names can not be blank"},
      {"SHELL /bin/sh -c", "SHELL requires the arguments to be in JSON notation"},
      {"SHELL []", "SHELL requires at least one argument"},
      {"SHELL", "SHELL requires at least one argument"},
      {"ONBUILD", "ONBUILD requires at least one argument"},
      {"HEALTHCHECK", "HEALTHCHECK requires at least one argument"},
      {"HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"},
      {"HEALTHCHECK --interval=1s CMD", "Missing command after HEALTHCHECK CMD"},
      {"HEALTHCHECK foo bar", "Unknown type \"FOO\" in HEALTHCHECK (try CMD)"},
  };
  for (const Case& c : cases) {
    bool is_from = std::string_view(c.text).substr(0, 4) == "FROM";
    std::string text = (is_from ? "" : "FROM base\n") + std::string(c.text) + "\n";
    int line = is_from ? 1 : 2;
    EXPECT_EQ(parse_err(text),
              "dockerfile parse error on line " + std::to_string(line) + ": " + c.message)
        << c.text;
  }
  // Shell-dependent instructions may be empty, as in docker.
  Dockerfile df = parse_ok("FROM a\nRUN\nCMD\nENTRYPOINT\n");
  ASSERT_EQ(df.instructions.size(), 4u);
  EXPECT_TRUE(at(df, 1).args.empty());
  EXPECT_TRUE(at(df, 3).args.empty());
  EXPECT_FALSE(at(df, 3).json_form);
  // A stage name is checked in lower case.
  EXPECT_EQ(at(parse_ok("FROM a AS Build-1.x_y\n"), 0).args, (V{"a", "AS", "Build-1.x_y"}));
}

TEST(Dockerfile, OnbuildTriggers) {
  Dockerfile df = parse_ok("FROM a\nONBUILD   RUN   make  all\nONBUILD FOO bar\n");
  EXPECT_EQ(at(df, 1).args, V{"RUN   make  all"});
  // An unknown trigger fails when it runs, not here (docker's behaviour).
  EXPECT_EQ(at(df, 2).args, V{"FOO bar"});
  auto t = parse_instruction(at(df, 1).args[0]);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->keyword, "RUN");
  EXPECT_EQ(t->args, V{"make  all"});

  EXPECT_EQ(parse_err("FROM a\nONBUILD ONBUILD RUN x\n"),
            "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't "
            "allowed");
  EXPECT_EQ(parse_err("FROM a\nonbuild onbuild RUN x\n"),
            "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't "
            "allowed");
  EXPECT_EQ(parse_err("FROM a\nONBUILD from b\n"),
            "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(parse_err("FROM a\nONBUILD MAINTAINER me\n"),
            "dockerfile parse error on line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
  // The trigger's own syntax is checked now.
  EXPECT_EQ(parse_err("FROM a\nONBUILD ENV a=b c\n"),
            "dockerfile parse error on line 2: Syntax error - can't find = in \"c\". Must be of "
            "the form: name=value");
}

TEST(Dockerfile, LineNumbers) {
  Dockerfile df = parse_ok(
      "# comment\n"
      "\n"
      "FROM a\n"
      "RUN x \\\n"
      "  y\n"
      "\n"
      "RUN z\n");
  ASSERT_EQ(df.instructions.size(), 3u);
  EXPECT_EQ(at(df, 0).line, 3);
  EXPECT_EQ(at(df, 1).line, 4);
  EXPECT_EQ(at(df, 2).line, 7);
  // Errors name the line where the instruction starts.
  EXPECT_EQ(parse_err("FROM a\nRUN x \\\n  y\nBAD\n"),
            "dockerfile parse error on line 4: unknown instruction: BAD");
  EXPECT_EQ(parse_err("FROM a\nENV a=b \\\n    c\n"),
            "dockerfile parse error on line 2: Syntax error - can't find = in \"c\". Must be of "
            "the form: name=value");
}

TEST(Dockerfile, NoInstructions) {
  EXPECT_EQ(parse_err("# only\n\n   \n"),
            "dockerfile parse error on line 3: file with no instructions");
  EXPECT_NE(parse_err("").find("file with no instructions"), std::string::npos);
}

TEST(Dockerfile, LineEndingsBomAndIndentation) {
  Dockerfile df = parse_ok("\xEF\xBB\xBF  FROM a\r\nRUN b \\\r\n c\r\nCMD d");
  ASSERT_EQ(df.instructions.size(), 3u);
  EXPECT_EQ(at(df, 0).original, "FROM a");
  EXPECT_EQ(at(df, 1).args, V{"b  c"});
  EXPECT_EQ(at(df, 2).args, V{"d"});
  EXPECT_EQ(at(df, 2).line, 4);
  // An unfinished continuation at the end of the file ends the instruction.
  EXPECT_EQ(at(parse_ok("FROM a\nRUN b \\"), 1).args, V{"b"});
}

TEST(Dockerfile, ParseInstruction) {
  auto env = parse_instruction("ENV a=b");
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->keyword, "ENV");
  EXPECT_EQ(env->args, (V{"a", "b"}));
  EXPECT_EQ(env->line, 1);

  auto copy = parse_instruction("COPY a\\b c", '`');
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->args, (V{"a\\b", "c"}));
  auto run = parse_instruction("RUN a `\n b", '`');
  ASSERT_TRUE(run);
  EXPECT_EQ(run->args, V{"a  b"});
  // Directives are not read: this is a comment, then the instruction.
  auto dir = parse_instruction("# escape=`\nRUN a `");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->args, V{"a `"});

  auto unknown = parse_instruction("FOO x");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "dockerfile parse error on line 1: unknown instruction: FOO");
  auto two = parse_instruction("RUN a\nRUN b");
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message,
            "dockerfile parse error on line 2: expected one instruction, found more");
  EXPECT_FALSE(parse_instruction(""));
  EXPECT_FALSE(parse_instruction("CMD [1]"));
}

}  // namespace
}  // namespace berth::build
