// build/dockerfile.cc — the Dockerfile parser. Docker parses in two layers
// and so does this file: the line parser (physical lines → one logical line,
// then the keyword's argument shape, JSON or shell form) and the instruction
// checks (argument counts, FROM's stage name, HEALTHCHECK's type, unknown
// keywords). An ONBUILD trigger gets the line parser and the ONBUILD-only
// refusals (ONBUILD, FROM, MAINTAINER triggers) when its ONBUILD is parsed;
// the instruction checks wait until the trigger runs, as in docker.
#include "build/dockerfile.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "base/ascii.h"
#include "base/json.h"
#include "build/text_internal.h"

namespace berth::build {
namespace {

// docker's reWhitespace, [\t\v\f\r ]: what separates a keyword from its
// arguments and the words of a whitespace-delimited instruction.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

std::string_view trim_left(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}

std::string_view trim_space(std::string_view s) {
  s = trim_left(s);
  size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

Error invalid(std::string message) { return Error{Errc::InvalidArgument, 0, std::move(message)}; }

bool is_comment(std::string_view line) {
  line = trim_left(line);
  return !line.empty() && line[0] == '#';
}

// Splits on runs of blanks; `max` > 0 caps the number of fields (the last
// one keeps the rest, like Go's regexp.Split(s, max)).
std::vector<std::string> split_blanks(std::string_view s, size_t max = 0) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    if (max > 0 && out.size() + 1 == max) {
      out.emplace_back(s.substr(i));
      break;
    }
    size_t j = i;
    while (j < s.size() && !is_blank(s[j])) ++j;
    out.emplace_back(s.substr(i, j - i));
    if (j == s.size()) break;
    while (j < s.size() && is_blank(s[j])) ++j;
    i = j;
  }
  return out;
}

// ---- parser directives -----------------------------------------------------

bool is_directive_space(char c) {  // Go's regexp \s: no \v
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

struct Directive {
  std::string name;  // lower case
  std::string_view value;
};

// `# name = value` (docker's ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$).
std::optional<Directive> directive_of(std::string_view line) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 1;
  auto skip = [&] {
    while (i < line.size() && is_directive_space(line[i])) ++i;
  };
  if (line.empty() || line[0] != '#') return std::nullopt;
  skip();
  size_t name_start = i;
  if (i >= line.size() || !alpha(line[i])) return std::nullopt;
  while (i < line.size() && (alpha(line[i]) || digit(line[i]))) ++i;
  std::string name = ascii_lower(line.substr(name_start, i - name_start));
  skip();
  if (i >= line.size() || line[i] != '=') return std::nullopt;
  ++i;
  skip();
  std::string_view value = line.substr(i);
  while (!value.empty() && is_directive_space(value.back())) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  return Directive{std::move(name), value};
}

class Directives {
 public:
  char escape() const { return escape_; }

  // Reads a line while directives may still come: they are the leading
  // comment lines; the first line that is not a known directive (an
  // instruction, a blank line, any other comment) ends them for good.
  Result<void> read(std::string_view line) {
    if (done_) return ok();
    std::optional<Directive> d = directive_of(line);
    bool* seen = !d                    ? nullptr
                 : d->name == "escape" ? &seen_escape_
                 : d->name == "syntax" ? &seen_syntax_
                 : d->name == "check"  ? &seen_check_
                                       : nullptr;
    if (seen == nullptr) {
      done_ = true;
      return ok();
    }
    if (*seen) return invalid(fmt::format("only one {} parser directive can be used", d->name));
    *seen = true;
    if (d->name == "escape") {
      if (d->value != "`" && d->value != "\\") {
        return invalid(fmt::format("invalid escape token '{}' does not match ` or \\", d->value));
      }
      escape_ = d->value[0];
    }
    return ok();
  }

  // A single instruction (parse_instruction) has no directive section.
  static Directives none(char escape) {
    Directives d;
    d.escape_ = escape;
    d.done_ = true;
    return d;
  }

 private:
  char escape_ = '\\';
  bool done_ = false;
  bool seen_escape_ = false;
  bool seen_syntax_ = false;
  bool seen_check_ = false;
};

// Removes a trailing escape character (maybe followed by spaces and tabs);
// true when it was there, i.e. the instruction continues on the next line.
bool trim_continuation(std::string& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return false;
  line.resize(end - 1);
  return true;
}

// ---- argument shapes -------------------------------------------------------

constexpr std::string_view kNotStringArray =
    "when using JSON array syntax, arrays must be comprised of strings only";

// The strings of a JSON array, or nullopt when `rest` is not one (docker then
// reads the shell form: a malformed array is a shell command). An array of
// anything but strings is an error.
Result<std::optional<std::vector<std::string>>> json_array(std::string_view rest) {
  rest = trim_left(rest);
  if (rest.empty() || rest[0] != '[') return std::optional<std::vector<std::string>>{};
  auto j = parse_json(rest, "JSON array");
  if (!j || !j->is_array()) return std::optional<std::vector<std::string>>{};
  std::vector<std::string> out;
  for (const Json& e : *j) {
    if (!e.is_string()) return invalid(std::string(kNotStringArray));
    out.push_back(e.get_ref<const std::string&>());
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

// Words separated by whitespace outside quotes; quotes and escapes are kept
// in the word (expansion removes them later). An escape character at the
// very end is dropped.
std::vector<std::string> parse_words(std::string_view s, char escape) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool blank_ok = false;  // a quoted empty string is still a word
  char quote = 0;
  for (size_t pos = 0; pos < s.size(); ++pos) {
    char c = s[pos];
    if (!in_word) {
      if (is_space(c)) continue;
      in_word = true;
    }
    if (quote == 0) {
      if (is_space(c)) {
        if (blank_ok || !word.empty()) words.push_back(word);
        word.clear();
        blank_ok = false;
        in_word = false;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        blank_ok = true;
      } else if (c == escape) {
        if (pos + 1 == s.size()) continue;
        word += c;
        c = s[++pos];
      }
      word += c;
      continue;
    }
    if (c == quote) {
      quote = 0;
    } else if (c == escape && quote != '\'') {
      if (pos + 1 == s.size()) continue;
      word += c;
      c = s[++pos];
    }
    word += c;
  }
  if (in_word && (blank_ok || !word.empty())) words.push_back(word);
  return words;
}

// ENV and LABEL: `key value with spaces` (the legacy form, chosen when the
// first word has no `=`) or `k1=v1 k2="v 2"`.
Result<std::vector<std::string>> name_values(std::string_view rest, std::string_view keyword,
                                             char escape) {
  std::vector<std::string> words = parse_words(rest, escape);
  if (words.empty()) return std::vector<std::string>{};
  if (words[0].find('=') == std::string::npos) {
    std::vector<std::string> parts = split_blanks(rest, 2);
    if (parts.size() < 2) return invalid(fmt::format("{} must have two arguments", keyword));
    return parts;
  }
  std::vector<std::string> out;
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos) {
      return invalid(fmt::format(
          "Syntax error - can't find = in {}. Must be of the form: name=value", go_quote(w)));
    }
    out.push_back(w.substr(0, eq));
    out.push_back(w.substr(eq + 1));
  }
  return out;
}

// Flags come before the arguments: words starting with `--`, quotes removed
// and backslash escapes applied (docker's extractBuilderFlags). A lone `--`
// ends them.
struct FlagSplit {
  std::vector<std::string> flags;
  std::string_view rest;
};

FlagSplit extract_flags(std::string_view s) {
  FlagSplit out;
  size_t pos = 0;
  for (;;) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
    if (pos == s.size()) return out;
    if (s[pos] != '-' || pos + 1 == s.size() || s[pos + 1] != '-') {
      out.rest = s.substr(pos);
      return out;
    }
    std::string word;
    bool blank_ok = false;
    char quote = 0;
    for (; pos < s.size(); ++pos) {
      char c = s[pos];
      if (quote == 0 && is_space(c)) break;
      if (quote != 0 && c == quote) {
        quote = 0;
        continue;
      }
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
        blank_ok = true;
        continue;
      }
      if (c == '\\') {
        if (pos + 1 == s.size()) continue;
        c = s[++pos];
      }
      word += c;
    }
    if (word == "--") {
      out.rest = s.substr(pos);
      return out;
    }
    if (blank_ok || !word.empty()) out.flags.push_back(std::move(word));
  }
}

enum class Shape {
  MaybeJson,      // RUN CMD ENTRYPOINT SHELL: JSON array or the rest of the line
  MaybeJsonList,  // ADD COPY VOLUME: JSON array or whitespace-separated words
  Whitespace,     // FROM EXPOSE
  NameOrNameVal,  // ARG
  NameVal,        // ENV LABEL
  Text,           // MAINTAINER STOPSIGNAL USER WORKDIR
  Health,         // HEALTHCHECK
  Trigger,        // ONBUILD
  Unknown,
};

Shape shape_of(std::string_view keyword) {
  static constexpr std::pair<std::string_view, Shape> kShapes[] = {
      {"ADD", Shape::MaybeJsonList},    {"ARG", Shape::NameOrNameVal},
      {"CMD", Shape::MaybeJson},        {"COPY", Shape::MaybeJsonList},
      {"ENTRYPOINT", Shape::MaybeJson}, {"ENV", Shape::NameVal},
      {"EXPOSE", Shape::Whitespace},    {"FROM", Shape::Whitespace},
      {"HEALTHCHECK", Shape::Health},   {"LABEL", Shape::NameVal},
      {"MAINTAINER", Shape::Text},      {"ONBUILD", Shape::Trigger},
      {"RUN", Shape::MaybeJson},        {"SHELL", Shape::MaybeJson},
      {"STOPSIGNAL", Shape::Text},      {"USER", Shape::Text},
      {"VOLUME", Shape::MaybeJsonList}, {"WORKDIR", Shape::Text},
  };
  for (const auto& [k, s] : kShapes) {
    if (k == keyword) return s;
  }
  return Shape::Unknown;
}

struct Form {
  std::vector<std::string> args;
  bool json = false;
};

// JSON array or one string (the whole rest).
Result<Form> maybe_json(std::string_view rest) {
  if (rest.empty()) return Form{};
  auto arr = BERTH_TRY(json_array(rest));
  if (arr) return Form{std::move(*arr), true};
  return Form{{std::string(rest)}, false};
}

// The line parser: a logical line (continuations already joined) to an
// instruction. Unknown keywords are accepted here, without arguments.
Result<Instruction> parse_line(std::string_view line, char escape) {
  Instruction ins;
  ins.original = std::string(line);
  std::string_view t = trim_space(line);
  size_t k = 0;
  while (k < t.size() && !is_blank(t[k])) ++k;
  ins.keyword = upper(t.substr(0, k));
  while (k < t.size() && is_blank(t[k])) ++k;
  FlagSplit fs = extract_flags(t.substr(k));
  ins.flags = std::move(fs.flags);
  std::string_view rest = trim_space(fs.rest);

  switch (shape_of(ins.keyword)) {
    case Shape::MaybeJson: {
      Form f = BERTH_TRY(maybe_json(rest));
      ins.args = std::move(f.args);
      ins.json_form = f.json;
      break;
    }
    case Shape::MaybeJsonList: {
      auto arr = BERTH_TRY(json_array(rest));
      if (arr) {
        ins.args = std::move(*arr);
        ins.json_form = true;
      } else if (!rest.empty()) {
        ins.args = split_blanks(rest);
      }
      break;
    }
    case Shape::Whitespace:
      if (!rest.empty()) ins.args = split_blanks(rest);
      break;
    case Shape::NameOrNameVal:
      ins.args = parse_words(rest, escape);
      break;
    case Shape::NameVal:
      ins.args = BERTH_TRY(name_values(rest, ins.keyword, escape));
      break;
    case Shape::Text:
      if (!rest.empty()) ins.args.emplace_back(rest);
      break;
    case Shape::Health: {
      size_t sep = 0;
      while (sep < rest.size() && !is_space(rest[sep])) ++sep;
      if (sep == 0) break;
      size_t next = sep;
      while (next < rest.size() && is_space(rest[next])) ++next;
      Form f = BERTH_TRY(maybe_json(rest.substr(next)));
      ins.args.push_back(upper(rest.substr(0, sep)));  // the type: NONE, CMD, ...
      ins.args.insert(ins.args.end(), f.args.begin(), f.args.end());
      ins.json_form = f.json;
      break;
    }
    case Shape::Trigger: {
      if (rest.empty()) break;
      Instruction trigger = BERTH_TRY(parse_line(rest, escape));
      if (trigger.keyword == "ONBUILD") {
        return invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      }
      if (trigger.keyword == "FROM" || trigger.keyword == "MAINTAINER") {
        return invalid(fmt::format("{} isn't allowed as an ONBUILD trigger", trigger.keyword));
      }
      // The trigger as written: the original minus `ONBUILD` and the blanks
      // after it (docker's expression, which the child build parses again).
      std::string_view expr = trim_left(line).substr(7);
      ins.args.emplace_back(trim_left(expr));
      break;
    }
    case Shape::Unknown:
      break;
  }
  return ins;
}

Error at_least_one(std::string_view keyword) {
  return invalid(fmt::format("{} requires at least one argument", keyword));
}

Error exactly_one(std::string_view keyword) {
  return invalid(fmt::format("{} requires exactly one argument", keyword));
}

bool valid_stage_name(std::string_view s) {  // ^[a-z][a-z0-9-_.]*$ on the lowered name
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    bool good =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!good) return false;
  }
  return true;
}

// The instruction checks (docker's instructions package), in its order.
Result<void> check(const Instruction& ins) {
  const std::string& kw = ins.keyword;
  const std::vector<std::string>& a = ins.args;
  switch (shape_of(kw)) {
    case Shape::Unknown:
      return invalid(fmt::format("unknown instruction: {}", kw));
    case Shape::NameVal:
      if (a.empty()) return at_least_one(kw);
      for (size_t i = 0; i < a.size(); i += 2) {
        if (a[i].empty()) return invalid(fmt::format("{} names can not be blank", kw));
      }
      break;
    case Shape::NameOrNameVal:
      if (a.empty()) return at_least_one(kw);
      for (const std::string& w : a) {
        if (!w.empty() && w[0] == '=') return invalid(fmt::format("{} names can not be blank", kw));
      }
      break;
    case Shape::Text:
      if (a.size() != 1) return exactly_one(kw);
      break;
    case Shape::MaybeJsonList:
      if (kw == "VOLUME") {
        if (a.empty()) return at_least_one(kw);
        for (const std::string& v : a) {
          if (trim_space(v).empty()) return invalid("VOLUME specified can not be an empty string");
        }
      } else if (a.size() < 2) {
        return invalid(fmt::format(
            "{} requires at least two arguments, but only one was provided. Destination could "
            "not be determined",
            kw));
      }
      break;
    case Shape::Whitespace:
      if (kw == "EXPOSE") {
        if (a.empty()) return at_least_one(kw);
      } else if (a.size() == 3 && iequals(a[1], "AS")) {
        if (!valid_stage_name(ascii_lower(a[2]))) {
          return invalid(fmt::format(
              "invalid name for build stage: {}, name can't start with a number or contain "
              "symbols",
              go_quote(a[2])));
        }
      } else if (a.size() != 1) {
        return invalid("FROM requires either one or three arguments");
      }
      break;
    case Shape::Trigger:
      if (a.empty()) return at_least_one(kw);
      break;
    case Shape::Health: {
      if (a.empty()) return at_least_one(kw);
      const std::string& type = a[0];
      if (type == "NONE") {
        if (a.size() != 1) return invalid("HEALTHCHECK NONE takes no arguments");
      } else if (type == "CMD") {
        if (a.size() == 1) return invalid("Missing command after HEALTHCHECK CMD");
      } else {
        return invalid(fmt::format("Unknown type {} in HEALTHCHECK (try CMD)", go_quote(type)));
      }
      break;
    }
    case Shape::MaybeJson:
      if (kw == "SHELL") {
        if (a.empty()) return at_least_one(kw);
        if (!ins.json_form) return invalid("SHELL requires the arguments to be in JSON notation");
      }
      break;
  }
  for (const std::string& f : ins.flags) {
    if (f.size() < 3 || f.compare(0, 2, "--") != 0 || f[2] == '=') {
      return invalid(
          fmt::format("invalid flag {} on {}: expected --name or --name=value", go_quote(f), kw));
    }
  }
  return ok();
}

Error located(int line, const Error& e) {
  return invalid(fmt::format("dockerfile parse error on line {}: {}", line, e.message));
}

// Physical lines as bufio.Scanner yields them: split on '\n', one trailing
// '\r' dropped, no empty last line for a text that ends with a newline.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view l = text.substr(i, j - i);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    i = j + 1;
  }
  return lines;
}

Result<Dockerfile> parse_text(std::string_view text, Directives d) {
  Dockerfile out;
  std::vector<std::string_view> lines = split_lines(text);
  int current = 0;  // lines consumed so far (the 1-based number of the last one)
  size_t i = 0;
  bool continuation_warning = false;
  while (i < lines.size()) {
    std::string_view raw = lines[i++];
    if (current == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    std::string_view first = trim_left(raw);
    if (auto r = d.read(first); !r) return located(current + 1, r.error());
    ++current;
    int start = current;
    std::string line = is_comment(first) ? std::string() : std::string(first);
    bool continues = trim_continuation(line, d.escape());
    if (!continues && line.empty()) continue;
    bool empty_continuation = false;
    while (continues && i < lines.size()) {
      std::string_view next = lines[i++];
      ++current;
      // Comment lines inside an instruction are dropped; blank ones too, but
      // docker warns about those.
      if (is_comment(next)) continue;
      if (trim_left(next).empty()) {
        empty_continuation = true;
        continue;
      }
      std::string part(next);
      continues = trim_continuation(part, d.escape());
      line += part;
    }
    if (empty_continuation) {
      out.warnings.push_back("[WARNING]: Empty continuation line found in: " + line);
      continuation_warning = true;
    }
    auto ins = parse_line(line, d.escape());
    if (!ins) return located(start, ins.error());
    if (auto r = check(*ins); !r) return located(start, r.error());
    ins->line = start;
    out.instructions.push_back(std::move(*ins));
  }
  if (continuation_warning) {
    out.warnings.push_back(
        "[WARNING]: Empty continuation lines will become errors in a future release.");
  }
  if (out.instructions.empty()) {
    return located(current, invalid("file with no instructions"));
  }
  out.escape = d.escape();
  return out;
}

}  // namespace

Result<Dockerfile> parse_dockerfile(std::string_view text) { return parse_text(text, {}); }

Result<Instruction> parse_instruction(std::string_view text, char escape) {
  Dockerfile df = BERTH_TRY(parse_text(text, Directives::none(escape)));
  if (df.instructions.size() != 1) {
    return located(df.instructions[1].line, invalid("expected one instruction, found more"));
  }
  return std::move(df.instructions[0]);
}

}  // namespace berth::build
