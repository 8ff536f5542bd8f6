// build/ignore.cc — .dockerignore patterns. Docker turns each pattern into a
// regular expression over the whole path (`*` → `[^/]*`, `?` → `[^/]`,
// `**/` → `(.*/)?`, a final `**` → `.*`, brackets as in filepath.Match);
// here the same language is compiled to a list of steps and run as a small
// NFA over the path's characters, one pass per pattern, which also answers
// "does a parent directory match" (the prefixes before each '/') and "could
// anything below this directory match" (the states still alive after
// "dir/").
#include "build/ignore.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "build/text_internal.h"

namespace berth::build {

struct IgnoreGlob {
  enum class Kind : std::uint8_t {
    Char,     // one given character
    AnyChar,  // `?`: one character but '/'
    Class,    // `[...]`: one character in (or, negated, not in) the ranges
    Star,     // `*`: any run of characters without '/'
    AnyDirs,  // `**/` (or `**` before more pattern): "" or anything ending in '/'
    Rest,     // a final `**`: anything
  };
  struct Step {
    Kind kind = Kind::Char;
    char32_t ch = 0;
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;
  };
  std::vector<Step> steps;
};

namespace {

using Kind = IgnoreGlob::Kind;

// Code points, with each byte of an invalid sequence mapped to a lone
// surrogate of its own so it still compares equal only to itself.
std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_len(s, i);
    auto b = static_cast<unsigned char>(s[i]);
    char32_t c;
    if (n == 1) {
      c = b < 0x80 ? b : 0xDC00 + b;
    } else {
      c = b & (0xff >> (n + 1));
      for (size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    out.push_back(c);
    i += n;
  }
  return out;
}

// Go's filepath.Clean for '/'-separated paths.
std::string clean_path(std::string_view p) {
  if (p.empty()) return ".";
  bool rooted = p[0] == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(c);
      }
      continue;
    }
    parts.push_back(c);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

// One bracket term's character, as filepath.Match reads it (`\` escapes;
// a bare `-` or `]`, or the pattern ending, is malformed).
std::optional<char32_t> class_char(const std::u32string& p, size_t& i) {
  if (i >= p.size() || p[i] == U'-' || p[i] == U']') return std::nullopt;
  if (p[i] == U'\\') {
    if (++i >= p.size()) return std::nullopt;
  }
  char32_t c = p[i++];
  if (i >= p.size()) return std::nullopt;  // a class must still be closed
  return c;
}

// nullopt when the pattern is malformed (where Go's filepath.Match reports
// ErrBadPattern).
std::optional<IgnoreGlob> compile(const std::u32string& p) {
  IgnoreGlob g;
  size_t i = 0;
  bool first = true;
  while (i < p.size()) {
    char32_t c = p[i++];
    IgnoreGlob::Step st;
    if (c == U'*') {
      if (i < p.size() && p[i] == U'*') {
        ++i;
        bool slash = i < p.size() && p[i] == U'/';
        if (slash) ++i;
        st.kind = i == p.size() ? Kind::Rest : Kind::AnyDirs;
        // Docker matches a leading `**` followed by plain text as a suffix
        // ("**foo" matches "xfoo"), not as `(.*/)?foo`; `**/foo` is the same
        // either way.
        if (first && !slash && st.kind == Kind::AnyDirs) {
          bool plain = true;
          for (size_t k = i; k < p.size(); ++k) {
            if (p[k] == U'*' || p[k] == U'?' || p[k] == U'[' || p[k] == U']' || p[k] == U'\\') {
              plain = false;
            }
          }
          if (plain) st.kind = Kind::Rest;
        }
      } else {
        st.kind = Kind::Star;
      }
    } else if (c == U'?') {
      st.kind = Kind::AnyChar;
    } else if (c == U'[') {
      st.kind = Kind::Class;
      if (i < p.size() && p[i] == U'^') {
        st.negated = true;
        ++i;
      }
      for (;;) {
        if (i < p.size() && p[i] == U']' && !st.ranges.empty()) {
          ++i;
          break;
        }
        std::optional<char32_t> lo = class_char(p, i);
        if (!lo) return std::nullopt;
        std::optional<char32_t> hi = lo;
        if (p[i] == U'-') {
          ++i;
          hi = class_char(p, i);
          if (!hi) return std::nullopt;
        }
        st.ranges.emplace_back(*lo, *hi);
      }
    } else if (c == U'\\') {
      if (i >= p.size()) return std::nullopt;
      st.ch = p[i++];
    } else {
      st.ch = c;
    }
    g.steps.push_back(std::move(st));
    first = false;
  }
  return g;
}

bool in_class(const IgnoreGlob::Step& st, char32_t c) {
  bool in = false;
  for (const auto& [lo, hi] : st.ranges) {
    if (lo <= c && c <= hi) in = true;
  }
  return in != st.negated;
}

// State 2i: before step i; state 2i+1: inside the `.*` of an AnyDirs step i,
// which may only leave through a '/'. State 2n accepts.
class Nfa {
 public:
  explicit Nfa(const IgnoreGlob& g)
      : g_(g), n_(g.steps.size()), cur_(2 * n_ + 2, 0), nxt_(2 * n_ + 2, 0) {
    add(cur_, 0);
  }

  void feed(char32_t c) {
    std::fill(nxt_.begin(), nxt_.end(), 0);
    for (size_t s = 0; s < cur_.size(); ++s) {
      if (!cur_[s]) continue;
      size_t i = s / 2;
      if (i == n_) continue;
      const IgnoreGlob::Step& st = g_.steps[i];
      if (s % 2 == 1) {
        add(nxt_, s);
        if (c == U'/') add(nxt_, 2 * i + 2);
        continue;
      }
      switch (st.kind) {
        case Kind::Char:
          if (c == st.ch) add(nxt_, 2 * i + 2);
          break;
        case Kind::AnyChar:
          if (c != U'/') add(nxt_, 2 * i + 2);
          break;
        case Kind::Class:
          if (in_class(st, c)) add(nxt_, 2 * i + 2);
          break;
        case Kind::Star:
          if (c != U'/') add(nxt_, s);
          break;
        case Kind::Rest:
          add(nxt_, s);
          break;
        case Kind::AnyDirs:
          add(nxt_, s + 1);
          if (c == U'/') add(nxt_, 2 * i + 2);
          break;
      }
    }
    cur_.swap(nxt_);
  }

  bool accepting() const { return cur_[2 * n_] != 0; }

  bool dead() const {
    for (char s : cur_) {
      if (s) return false;
    }
    return true;
  }

  // True when some state can still consume input.
  bool can_continue() const {
    for (size_t s = 0; s < cur_.size(); ++s) {
      if (cur_[s] && s != 2 * n_) return true;
    }
    return false;
  }

 private:
  // Adds a state and what it reaches without input: zero repetitions of
  // `*`, `**` and the empty alternative of `(.*/)?`.
  void add(std::vector<char>& set, size_t s) {
    while (!set[s]) {
      set[s] = 1;
      if (s % 2 == 1 || s / 2 == n_) return;
      Kind k = g_.steps[s / 2].kind;
      if (k != Kind::Star && k != Kind::Rest && k != Kind::AnyDirs) return;
      s += 2;
    }
  }

  const IgnoreGlob& g_;
  size_t n_;
  std::vector<char> cur_;
  std::vector<char> nxt_;
};

// True when the pattern matches the path or one of its parent directories
// (docker excludes everything below a directory a pattern matches).
bool matches(const IgnoreGlob& g, const std::u32string& path) {
  Nfa m(g);
  for (char32_t c : path) {
    if (c == U'/' && m.accepting()) return true;
    m.feed(c);
    if (m.dead()) return false;
  }
  return m.accepting();
}

// True when the pattern could match some path below `dir`.
bool may_match_below(const IgnoreGlob& g, const std::u32string& dir) {
  Nfa m(g);
  for (char32_t c : dir) m.feed(c);
  m.feed(U'/');
  return m.can_continue();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<IgnoreMatcher> IgnoreMatcher::parse(std::string_view text) {
  IgnoreMatcher m;
  int line_no = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    i = j + 1;
    if (++line_no == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    // Only a '#' in the first column starts a comment: " #x" is a pattern.
    if (!line.empty() && line[0] == '#') continue;
    std::string_view written = trim(line);
    if (written.empty()) continue;
    Pattern p;
    std::string_view body = written;
    if (body[0] == '!') {
      p.exception = true;
      body = trim(body.substr(1));
    }
    auto bad = [&] {
      return Error{
          Errc::InvalidArgument, 0,
          fmt::format("invalid .dockerignore pattern {} on line {}", go_quote(written), line_no)};
    };
    if (body.empty()) return bad();
    p.text = clean_path(body);
    if (p.text.size() > 1 && p.text[0] == '/') p.text.erase(0, 1);
    std::optional<IgnoreGlob> glob = compile(decode(p.text));
    if (!glob) return bad();
    p.glob = std::make_shared<const IgnoreGlob>(std::move(*glob));
    m.patterns_.push_back(std::move(p));
  }
  return m;
}

bool IgnoreMatcher::excluded(std::string_view path) const {
  if (patterns_.empty()) return false;
  std::u32string p = decode(path);
  bool matched = false;
  for (const Pattern& pat : patterns_) {
    // Only a pattern that would flip the answer needs matching.
    if (pat.exception != matched) continue;
    if (matches(*pat.glob, p)) matched = !pat.exception;
  }
  return matched;
}

bool IgnoreMatcher::skip_dir(std::string_view dir) const {
  std::u32string d = decode(dir);
  // The last pattern matching the directory (or a parent) decides for it and,
  // through the parent rule, for everything below unless a later exception
  // matches there. Earlier exceptions are overridden by that pattern.
  size_t last = patterns_.size();
  for (size_t k = 0; k < patterns_.size(); ++k) {
    if (matches(*patterns_[k].glob, d)) last = k;
  }
  if (last == patterns_.size() || patterns_[last].exception) return false;
  for (size_t k = last + 1; k < patterns_.size(); ++k) {
    if (patterns_[k].exception && may_match_below(*patterns_[k].glob, d)) return false;
  }
  return true;
}

}  // namespace berth::build
