// build/ignore.h — .dockerignore: which paths of a build context are not
// sent. Docker's rules: one pattern per line; lines starting with `#` are
// comments; blank lines skipped; surrounding whitespace trimmed; each
// pattern cleaned like Go's filepath.Clean with a leading `/` dropped; `!`
// makes an exception; `*` `?` `[...]` match within one path component
// (Go's filepath.Match; `\` makes the next character literal), `**`
// matches any number of components (a leading `**` before plain text is a
// suffix match: "**foo" excludes "a/xfoo", as in docker); a pattern also
// excludes everything below a directory it matches; the last pattern that
// matches a path decides.
// Depends on: base.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::build {

struct IgnoreGlob;  // a compiled pattern (ignore.cc)

class IgnoreMatcher {
 public:
  IgnoreMatcher() = default;  // excludes nothing

  // InvalidArgument for a pattern Go's filepath.Match would reject (e.g. an
  // unclosed `[`), naming it: "invalid .dockerignore pattern \"[a\" on line 2".
  static Result<IgnoreMatcher> parse(std::string_view text);

  // path: relative to the context root, '/'-separated, no leading "./" or
  // "/" (callers normalise). True when the path is not to be sent.
  bool excluded(std::string_view path) const;

  // True when nothing below the excluded directory `dir` can be re-included
  // by an exception, so a walker may skip it whole. Sound for wildcard
  // exceptions too (`!*/keep` keeps every excluded directory walkable),
  // where docker's walker compares literal prefixes only and may skip a
  // directory holding a re-included file; it may answer false where a
  // later pattern would exclude the re-included paths again. False for a
  // directory that is not excluded.
  bool skip_dir(std::string_view dir) const;

  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    std::string text;  // cleaned, without the `!`
    bool exception = false;
    // Shared and immutable, so copies of a matcher are cheap; opaque so the
    // matcher's steps stay out of this header.
    std::shared_ptr<const IgnoreGlob> glob;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace berth::build
