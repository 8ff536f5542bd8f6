// build/dockerfile.h — a Dockerfile, parsed as docker's classic builder
// parses it (no variable expansion here: that happens per step, with the
// build's environment, through build/expand.h).
//
// Lines: `#` comments (only at the start of a line, after whitespace),
// blank lines skipped, continuation by the escape character at the end of
// a line (default `\`, `# escape=`` ` `` parser directive at the top; the
// `# syntax=` directive is read and ignored), comment lines inside a
// continued instruction dropped. Keywords are case-insensitive.
//
// Errors (Errc::InvalidArgument) use docker's wording, e.g.
// "dockerfile parse error on line 3: unknown instruction: FOOBAR",
// "dockerfile parse error on line 1: FROM requires either one or three
// arguments"; the line is where the instruction starts. A text without any
// instruction is "file with no instructions"; "the Dockerfile (Dockerfile)
// cannot be empty" (zero bytes) is the caller's (it knows the name).
// Depends on: base.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::build {

struct Instruction {
  std::string keyword;  // upper case: "FROM", "RUN", "COPY", ...
  // "--from=builder", "--chown=1:1", in order, with quotes removed and `\`
  // escapes applied as docker does; which flags a keyword takes is the
  // caller's to check ("unknown flag: x").
  std::vector<std::string> flags;
  // Per keyword (raw words: quotes kept, no expansion):
  //  RUN CMD ENTRYPOINT SHELL: json_form → the array's strings; otherwise
  //    one string, the rest of the line (continuations joined, trimmed).
  //  ENV LABEL: flat {key1, value1, key2, value2, ...}; the legacy
  //    `ENV key value with spaces` form gives {key, "value with spaces"}.
  //  ARG: {"name"} or {"name=default"} (one per word).
  //  FROM: its words ({"busybox", "AS", "base"}); flags carry --platform.
  //  COPY ADD: json_form → the array; otherwise the whitespace-separated
  //    words (sources..., dest).
  //  EXPOSE: the words. VOLUME: json_form → the array; otherwise the words.
  //  WORKDIR USER STOPSIGNAL MAINTAINER: one string, the rest of the line.
  //  HEALTHCHECK: {"NONE"} or {"CMD", ...} where what follows CMD is as for
  //    RUN (json_form tells which); flags carry --interval etc.
  //  ONBUILD: one string, the trigger instruction as written. The trigger
  //    is parsed for syntax only; an unknown keyword in it fails when the
  //    trigger runs (parse_instruction), as in docker.
  //  Shell-form COPY/ADD/VOLUME words are split on blanks only (quotes do
  //    not group: paths with spaces need the JSON form, as in docker).
  std::vector<std::string> args;
  bool json_form = false;
  std::string original;  // the instruction as written, continuations joined with
                         // nothing between (docker's "Step N/M : <original>")
  int line = 0;          // 1-based line where it starts
};

struct Dockerfile {
  std::vector<Instruction> instructions;
  char escape = '\\';
  // Docker's parser warns, without failing, about an empty continuation
  // line: one "[WARNING]: Empty continuation line found in: <instruction>"
  // each, then "[WARNING]: Empty continuation lines will become errors in a
  // future release." — lines to print as they are.
  std::vector<std::string> warnings;
};

// Parses the whole text. Known keywords: FROM RUN CMD LABEL MAINTAINER
// EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL
// HEALTHCHECK SHELL. Anything else: "unknown instruction: X" (upper case).
// Also refused, with docker's messages, as docker's classic builder does:
//  - missing arguments: "X requires at least one argument" (ENV LABEL ARG
//    EXPOSE VOLUME ONBUILD HEALTHCHECK SHELL), "X requires exactly one
//    argument" (WORKDIR USER STOPSIGNAL MAINTAINER), "COPY requires at least
//    two arguments, but only one was provided. Destination could not be
//    determined" (COPY ADD), "FROM requires either one or three arguments",
//    `invalid name for build stage: "1x", name can't start with a number or
//    contain symbols`. RUN, CMD and ENTRYPOINT may be empty, as in docker.
//  - SHELL not in JSON form ("SHELL requires the arguments to be in JSON
//    notation"); a JSON array of non-strings ("when using JSON array
//    syntax, arrays must be comprised of strings only"). A malformed array
//    is the shell form, as in docker.
//  - ONBUILD ONBUILD ("Chaining ONBUILD via `ONBUILD ONBUILD` isn't
//    allowed"), "FROM isn't allowed as an ONBUILD trigger", same for
//    MAINTAINER.
//  - ENV/LABEL: `ENV key` ("ENV must have two arguments"), a pair without
//    `=` after a `k=v` ("Syntax error - can't find = in "x". Must be of the
//    form: name=value"), an empty key ("ENV names can not be blank").
//  - HEALTHCHECK: "HEALTHCHECK NONE takes no arguments", "Missing command
//    after HEALTHCHECK CMD", `Unknown type "X" in HEALTHCHECK (try CMD)`.
//  - a malformed flag (no name: `--=x`).
//  - parser directives: "only one escape parser directive can be used",
//    "invalid escape token 'x' does not match ` or \".
Result<Dockerfile> parse_dockerfile(std::string_view text);

// Parses one line as an instruction (ONBUILD triggers, `commit --change`).
// Same rules and errors as above, for a text of one instruction (parser
// directives are not read; a second instruction is an error).
Result<Instruction> parse_instruction(std::string_view text, char escape = '\\');

}  // namespace berth::build
