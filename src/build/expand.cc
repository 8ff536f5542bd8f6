// build/expand.cc — docker's builder word lexer (its shell package): quotes,
// escapes and ${} expansions, one byte at a time (every character with a
// meaning is ASCII; `?` patterns and cut points step over whole UTF-8
// characters).
#include "build/expand.h"

#include <fmt/format.h>

#include <memory>
#include <unordered_map>
#include <utility>

#include "build/text_internal.h"

namespace berth::build {
namespace {

constexpr int kEof = -1;

Error invalid(std::string message) { return Error{Errc::InvalidArgument, 0, std::move(message)}; }

// The words of a line as the lexer builds it: text from expansions is split
// on whitespace, quoted and escaped text never is.
class Words {
 public:
  void add_char(char c) {
    if (!is_space(c)) {
      add_raw_char(c);
    } else if (in_word_ && !word_.empty()) {
      words_.push_back(std::move(word_));
      word_.clear();
      in_word_ = false;
    }
  }
  void add_raw_char(char c) {
    word_ += c;
    in_word_ = true;
  }
  void add_string(std::string_view s) {
    for (char c : s) add_char(c);
  }
  void add_raw_string(std::string_view s) {
    word_ += s;
    in_word_ = true;
  }
  std::vector<std::string> take() {
    if (!word_.empty()) words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
    return std::move(words_);
  }

 private:
  std::string word_;
  std::vector<std::string> words_;
  bool in_word_ = false;
};

// ---- patterns of ${NAME#p} ${NAME%p} ${NAME/p/r} ---------------------------

// `*` any text, `?` one character, `\*` `\?` `\\` literal; `\}` and `\/`
// are the `}` and `/` that would otherwise end the pattern. No brackets.
struct Glob {
  enum class Kind { Literal, One, Any };
  struct Step {
    Kind kind;
    char ch;
  };
  std::vector<Step> steps;
};

Result<Glob> compile_glob(std::string_view p) {
  Glob g;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '*') {
      g.steps.push_back({Glob::Kind::Any, 0});
    } else if (c == '?') {
      g.steps.push_back({Glob::Kind::One, 0});
    } else if (c == '\\') {
      if (i + 1 < p.size() && (p[i + 1] == '}' || p[i + 1] == '/')) continue;
      if (i + 1 == p.size()) {
        return invalid(fmt::format("invalid pattern ({}) in substitution: invalid escape '\\'", p));
      }
      char e = p[++i];
      if (e != '*' && e != '?' && e != '\\') {
        return invalid(
            fmt::format("invalid pattern ({}) in substitution: invalid escape '\\{}'", p, e));
      }
      g.steps.push_back({Glob::Kind::Literal, e});
    } else {
      g.steps.push_back({Glob::Kind::Literal, c});
    }
  }
  return g;
}

// Whole-string match, backtracking to the last `*` (linear for one `*`,
// quadratic at worst: values are short).
bool glob_match(const Glob& g, std::string_view s) {
  size_t si = 0;
  size_t gi = 0;
  size_t star_g = std::string::npos;
  size_t star_s = 0;
  while (si < s.size()) {
    if (gi < g.steps.size()) {
      const Glob::Step& st = g.steps[gi];
      if (st.kind == Glob::Kind::Any) {
        star_g = gi++;
        star_s = si;
        continue;
      }
      if (st.kind == Glob::Kind::One) {
        si += utf8_len(s, si);
        ++gi;
        continue;
      }
      if (st.ch == s[si]) {
        ++si;
        ++gi;
        continue;
      }
    }
    if (star_g == std::string::npos) return false;
    gi = star_g + 1;
    star_s += utf8_len(s, star_s);
    si = star_s;
  }
  while (gi < g.steps.size() && g.steps[gi].kind == Glob::Kind::Any) ++gi;
  return gi == g.steps.size();
}

// ${NAME#p} / ${NAME##p}: drops the shortest / longest matching prefix.
std::string trim_prefix(const Glob& g, const std::string& v, bool longest) {
  for (size_t k = 0; k <= v.size(); ++k) {
    size_t cut = longest ? v.size() - k : k;
    if (utf8_boundary(v, cut) && glob_match(g, std::string_view(v).substr(0, cut))) {
      return v.substr(cut);
    }
  }
  return v;
}

// ${NAME%p} / ${NAME%%p}: drops the shortest / longest matching suffix.
std::string trim_suffix(const Glob& g, const std::string& v, bool longest) {
  for (size_t k = 0; k <= v.size(); ++k) {
    size_t cut = longest ? k : v.size() - k;
    if (utf8_boundary(v, cut) && glob_match(g, std::string_view(v).substr(cut))) {
      return v.substr(0, cut);
    }
  }
  return v;
}

// Leftmost, then longest, match at or after `from`; npos when none.
std::pair<size_t, size_t> find_glob(const Glob& g, std::string_view v, size_t from) {
  for (size_t start = from; start <= v.size(); ++start) {
    if (!utf8_boundary(v, start)) continue;
    for (size_t end = v.size() + 1; end-- > start;) {
      if (utf8_boundary(v, end) && glob_match(g, v.substr(start, end - start))) {
        return {start, end};
      }
    }
  }
  return {std::string::npos, 0};
}

// ${NAME/p/r} and ${NAME//p/r}, with Go's rule for empty matches (never
// right after the previous match, so `${x//*/r}` replaces once).
std::string replace_glob(const Glob& g, const std::string& v, const std::string& repl, bool all) {
  std::string out;
  size_t last_end = 0;
  size_t search = 0;
  while (search <= v.size()) {
    auto [start, end] = find_glob(g, v, search);
    if (start == std::string::npos) break;
    out.append(v, last_end, start - last_end);
    if (end > last_end || start == 0) out += repl;
    last_end = end;
    if (!all) break;
    if (end > search) {
      search = end;
    } else {
      search += search < v.size() ? utf8_len(v, search) : 1;
    }
  }
  out.append(v, last_end, std::string::npos);
  return out;
}

// ---- the lexer ---------------------------------------------------------------

struct Processed {
  std::string text;
  std::vector<std::string> words;
};

class Lexer {
 public:
  Lexer(std::string_view src, const Lookup& env, char escape)
      : src_(src), env_(env), escape_(escape) {}

  // Reads up to `stop` (consumed) or the end. raw_escapes keeps escape
  // characters in the text (patterns need them to tell `\*` from `*`).
  Result<Processed> process(int stop, bool raw_escapes) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    auto r = process_inner(stop);
    raw_escapes_ = saved;
    return r;
  }

 private:
  int peek() const { return pos_ < src_.size() ? static_cast<unsigned char>(src_[pos_]) : kEof; }
  int next() { return pos_ < src_.size() ? static_cast<unsigned char>(src_[pos_++]) : kEof; }

  std::optional<std::string> get(std::string_view name) const {
    if (!env_) return std::nullopt;
    return env_(name);
  }

  Result<Processed> process_inner(int stop) {
    Processed out;
    Words words;
    while (peek() != kEof) {
      int c = peek();
      if (stop != kEof && c == stop) {
        next();
        out.words = words.take();
        return out;
      }
      if (c == '$') {
        std::string t = BERTH_TRY(dollar());
        out.text += t;
        words.add_string(t);
        continue;
      }
      if (c == '\'' || c == '"') {
        std::string t = BERTH_TRY(c == '\'' ? single_quote() : double_quote());
        out.text += t;
        words.add_raw_string(t);
        continue;
      }
      next();
      if (c == escape_) {
        if (raw_escapes_) {
          words.add_raw_char(static_cast<char>(c));
          out.text += static_cast<char>(c);
        }
        c = next();
        if (c == kEof) break;  // a trailing escape character is dropped
        words.add_raw_char(static_cast<char>(c));
      } else {
        words.add_char(static_cast<char>(c));
      }
      out.text += static_cast<char>(c);
    }
    if (stop != kEof) {
      return invalid(fmt::format("unexpected end of statement while looking for matching {}",
                                 static_cast<char>(stop)));
    }
    out.words = words.take();
    return out;
  }

  Result<std::string> single_quote() {
    next();
    std::string out;
    for (;;) {
      int c = next();
      if (c == kEof) {
        return invalid("unexpected end of statement while looking for matching single-quote");
      }
      if (c == '\'') return out;
      out += static_cast<char>(c);
    }
  }

  Result<std::string> double_quote() {
    next();
    std::string out;
    for (;;) {
      int c = peek();
      if (c == kEof) {
        return invalid("unexpected end of statement while looking for matching double-quote");
      }
      if (c == '"') {
        next();
        return out;
      }
      if (c == '$') {
        out += BERTH_TRY(dollar());
        continue;
      }
      next();
      if (c == escape_) {
        if (raw_escapes_) out += static_cast<char>(c);
        int n = peek();
        if (n == kEof) continue;  // the loop reports the missing quote
        if (n == '"' || n == '$' || n == escape_) c = next();
      }
      out += static_cast<char>(c);
    }
  }

  // A name: letters, digits and `_`; or digits alone (positional); or one
  // of the shell's special parameters. Unset in a build, so they expand to
  // "" unless the environment has them.
  std::string name() {
    std::string n;
    auto digit = [](int c) { return c >= '0' && c <= '9'; };
    auto alpha = [](int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    while (peek() != kEof) {
      int c = peek();
      if (n.empty() && digit(c)) {
        while (digit(peek())) n += static_cast<char>(next());
        return n;
      }
      if (n.empty() &&
          (c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!')) {
        next();
        return std::string(1, static_cast<char>(c));
      }
      if (!alpha(c) && !digit(c) && c != '_') break;
      n += static_cast<char>(next());
    }
    return n;
  }

  // The word after a modifier, up to the closing brace.
  Result<std::string> modifier_word(bool raw) {
    auto r = process('}', raw);
    if (!r) {
      if (peek() == kEof) return invalid("syntax error: missing '}'");
      return std::move(r).error();
    }
    return std::move(r->text);
  }

  Result<std::string> dollar() {
    next();
    if (peek() != '{') {
      std::string n = name();
      if (n.empty()) return std::string("$");
      return get(n).value_or("");
    }
    next();
    int p = peek();
    if (p == kEof) return invalid("syntax error: missing '}'");
    if (p == '{' || p == '}' || p == ':') return invalid("syntax error: bad substitution");
    std::string n = name();
    int c = next();
    if (c == kEof) return invalid("syntax error: missing '}'");
    if (c == '}') return get(n).value_or("");
    std::string mod(1, static_cast<char>(c));
    if (c == '/') return substitute(n);
    bool null_is_unset = false;
    if (c == ':') {
      null_is_unset = true;
      c = next();
      if (c != kEof) mod += static_cast<char>(c);
    }
    if (c != '+' && c != '-' && c != '?' && c != '#' && c != '%') {
      if (!null_is_unset)
        return invalid(fmt::format("unsupported modifier ({}) in substitution", mod));
      BERTH_TRY(modifier_word(false));
      return invalid(fmt::format("unsupported modifier ({}) in substitution", mod));
    }
    std::string word = BERTH_TRY(modifier_word(c == '#' || c == '%'));
    std::optional<std::string> value = get(n);
    bool unset = !value || (null_is_unset && value->empty());
    switch (c) {
      case '-':
        return unset ? word : *value;
      case '+':
        return unset ? std::string() : word;
      case '?':
        if (!value)
          return invalid(
              fmt::format("{}: {}", n, word.empty() ? "is not allowed to be unset" : word));
        if (unset)
          return invalid(
              fmt::format("{}: {}", n, word.empty() ? "is not allowed to be empty" : word));
        return *value;
      default: {  // '#' '%': a doubled modifier asks for the longest match
        bool longest = !word.empty() && word[0] == c;
        if (longest) word.erase(0, 1);
        Glob g = BERTH_TRY(compile_glob(word));
        std::string v = value.value_or("");
        return c == '#' ? trim_prefix(g, v, longest) : trim_suffix(g, v, longest);
      }
    }
  }

  Result<std::string> substitute(const std::string& n) {
    bool all = peek() == '/';
    if (all) next();
    auto pattern = process('/', true);
    if (!pattern) {
      if (peek() == kEof) return invalid("syntax error: missing '/' in ${}");
      return std::move(pattern).error();
    }
    std::string repl = BERTH_TRY(modifier_word(true));
    Glob g = BERTH_TRY(compile_glob(pattern->text));
    return replace_glob(g, get(n).value_or(""), repl, all);
  }

  std::string_view src_;
  size_t pos_ = 0;
  const Lookup& env_;
  char escape_;
  bool raw_escapes_ = false;
};

Result<Processed> run(std::string_view word, const Lookup& env, char escape) {
  Lexer lx(word, env, escape);
  auto r = lx.process(kEof, false);
  if (!r)
    return invalid(fmt::format("failed to process {}: {}", go_quote(word), r.error().message));
  return r;
}

}  // namespace

Result<std::string> expand_word(std::string_view word, const Lookup& env, char escape) {
  Processed p = BERTH_TRY(run(word, env, escape));
  return std::move(p.text);
}

Result<std::vector<std::string>> expand_words(std::string_view line, const Lookup& env,
                                              char escape) {
  Processed p = BERTH_TRY(run(line, env, escape));
  return std::move(p.words);
}

Lookup lookup_env(const std::vector<std::string>& env) {
  auto vars = std::make_shared<std::unordered_map<std::string, std::string>>();
  for (const std::string& kv : env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      (*vars)[kv] = "";
    } else {
      (*vars)[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars->find(std::string(name));
    if (it == vars->end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace berth::build
