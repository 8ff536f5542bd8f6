// build/expand.h — the shell-like word processing docker's builder applies
// to the arguments of ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME
// WORKDIR ARG (never to RUN/CMD/ENTRYPOINT, whose shell does its own).
//
// In a word: `$NAME`, `${NAME}`, `${NAME:-word}` (`word` when unset or
// empty), `${NAME-word}` (when unset), `${NAME:+word}` (`word` when set and
// non-empty), `${NAME+word}` (when set), `${NAME:?msg}` / `${NAME?msg}`
// (error "NAME: msg"), and docker's pattern forms `${NAME#p}` `${NAME##p}`
// (shortest / longest prefix removed), `${NAME%p}` `${NAME%%p}` (suffix),
// `${NAME/p/r}` `${NAME//p/r}` (first / every match replaced), where `*` is
// any text and `?` one character; single quotes are literal, double quotes
// allow expansion, the escape character escapes the next character (inside
// double quotes only before `$`, `"`, the escape char itself); quotes are
// removed. An unknown variable expands to "", as do the shell's positional
// and special parameters (`$1`, `$@`, `$$`...). `$` followed by anything
// else stays `$`. Errors (InvalidArgument) are docker's, prefixed with the
// word as it does: `failed to process "${X:?}": X: is not allowed to be
// empty`, `... syntax error: missing '}'`, `... unexpected end of statement
// while looking for matching single-quote`.
// Depends on: base.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::build {

// Looks a variable up: nullopt = unset.
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

// One word: expansion and quote removal (spaces stay as they are).
Result<std::string> expand_word(std::string_view word, const Lookup& env, char escape = '\\');

// Docker's word-to-words expansion, which its builder applies only to each
// word of EXPOSE (VOLUME and COPY words go through expand_word one by one):
// the text is split on unquoted, unescaped whitespace, and so is the result
// of an unquoted expansion (`EXPOSE $PORTS` with PORTS="80 443" gives two
// words); quoted text and escaped spaces never split. Empty words are
// dropped.
Result<std::vector<std::string>> expand_words(std::string_view line, const Lookup& env,
                                              char escape = '\\');

// Lookup over "K=V" strings (an image's Env), last one wins; an entry
// without `=` sets K to "".
Lookup lookup_env(const std::vector<std::string>& env);

}  // namespace berth::build
