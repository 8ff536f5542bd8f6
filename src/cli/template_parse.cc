// Lexer and parser of the Go template subset (see cli/template.h).
#include <fmt/format.h>

#include <cctype>
#include <set>

#include "base/strings.h"
#include "cli/template.h"
#include "cli/template_ast.h"

namespace berth::cli {
namespace tmpl {

const std::set<std::string>& function_names() {
  static const std::set<std::string> k = {
      "json",   "join",  "split",   "lower", "upper", "title", "pad", "truncate",
      "printf", "print", "println", "len",   "index", "eq",    "ne",  "lt",
      "le",     "gt",    "ge",      "and",   "or",    "not"};
  return k;
}

namespace {

struct Token {
  enum Kind { Ident, Field, Dot, Var, Literal, LParen, RParen, Pipe, Declare, Assign, Comma };
  Kind kind;
  std::string text;     // identifier, field name, variable name, or source text
  OrderedJson value;    // Literal
  bool spaced = false;  // whitespace before this token
  int col = 0;
};

Error parse_error(int line, std::string_view msg) {
  return make_error(Errc::InvalidArgument, "template: :{}: {}", line, msg);
}

// One {{action}}: its tokens, or a comment.
struct RawAction {
  std::vector<Token> toks;
  int line = 1;
  int col = 0;
  bool comment = false;
};

bool is_alnum_(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

Result<std::vector<Token>> lex_action(std::string_view s, int line, int col0) {
  std::vector<Token> out;
  size_t i = 0;
  bool spaced = true;
  auto push = [&](Token::Kind k, std::string text, size_t at) {
    out.push_back(Token{k, std::move(text), OrderedJson(), spaced, col0 + static_cast<int>(at)});
    spaced = false;
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      spaced = true;
      ++i;
      continue;
    }
    size_t start = i;
    if (c == '(') {
      push(Token::LParen, "(", start), ++i;
    } else if (c == ')') {
      push(Token::RParen, ")", start), ++i;
    } else if (c == '|') {
      push(Token::Pipe, "|", start), ++i;
    } else if (c == ',') {
      push(Token::Comma, ",", start), ++i;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      push(Token::Declare, ":=", start), i += 2;
    } else if (c == '=') {
      push(Token::Assign, "=", start), ++i;
    } else if (c == '.' && (i + 1 >= s.size() || !is_alnum_(s[i + 1]))) {
      if (i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return parse_error(line, "bad number syntax");
      push(Token::Dot, ".", start), ++i;
    } else if (c == '.') {
      ++i;
      while (i < s.size() && is_alnum_(s[i])) ++i;
      if (std::isdigit(static_cast<unsigned char>(s[start + 1]))) {
        // ".5" is a number in Go; berth's formats never need it.
        return parse_error(line,
                           fmt::format("bad number syntax: \"{}\"", s.substr(start, i - start)));
      }
      push(Token::Field, std::string(s.substr(start + 1, i - start - 1)), start);
    } else if (c == '$') {
      ++i;
      while (i < s.size() && is_alnum_(s[i])) ++i;
      push(Token::Var, std::string(s.substr(start, i - start)), start);
    } else if (c == '"') {
      std::string v;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i++];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d == '\n') break;
        if (d != '\\') {
          v += d;
          continue;
        }
        if (i >= s.size()) break;
        char e = s[i++];
        switch (e) {
          case 'n':
            v += '\n';
            break;
          case 't':
            v += '\t';
            break;
          case 'r':
            v += '\r';
            break;
          case '\\':
            v += '\\';
            break;
          case '"':
            v += '"';
            break;
          case '\'':
            v += '\'';
            break;
          case '0':
            v += '\0';
            break;
          default:
            return parse_error(line, fmt::format("invalid syntax: unknown escape \\{}", e));
        }
      }
      if (!closed) return parse_error(line, "unterminated quoted string");
      push(Token::Literal, std::string(s.substr(start, i - start)), start);
      out.back().value = v;
    } else if (c == '`') {
      size_t end = s.find('`', i + 1);
      if (end == std::string_view::npos) return parse_error(line, "unterminated raw quoted string");
      push(Token::Literal, std::string(s.substr(start, end + 1 - start)), start);
      out.back().value = std::string(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+') && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      ++i;
      while (i < s.size() && (is_alnum_(s[i]) || s[i] == '.' || s[i] == '+' || s[i] == '-')) {
        if ((s[i] == '+' || s[i] == '-') && !(s[i - 1] == 'e' || s[i - 1] == 'E')) break;
        ++i;
      }
      std::string num(s.substr(start, i - start));
      OrderedJson v;
      if (auto n = parse_int(num)) {
        v = *n;
      } else {
        char* end = nullptr;
        double d = std::strtod(num.c_str(), &end);
        if (end != num.c_str() + num.size())
          return parse_error(line, fmt::format("bad number syntax: \"{}\"", num));
        v = d;
      }
      push(Token::Literal, num, start);
      out.back().value = v;
    } else if (is_alnum_(c)) {
      while (i < s.size() && is_alnum_(s[i])) ++i;
      std::string word(s.substr(start, i - start));
      if (word == "true" || word == "false") {
        push(Token::Literal, word, start);
        out.back().value = (word == "true");
      } else if (word == "nil") {
        push(Token::Literal, word, start);
        out.back().value = nullptr;
      } else {
        push(Token::Ident, word, start);
      }
    } else {
      return parse_error(line, fmt::format("unexpected \"{}\" in command", c));
    }
  }
  return out;
}

struct Piece {
  bool is_text;
  std::string text;
  RawAction action;
};

Result<std::vector<Piece>> split_pieces(std::string_view src) {
  std::vector<Piece> out;
  size_t pos = 0;
  int line = 1;
  auto count_lines = [&](std::string_view t) {
    for (char c : t)
      if (c == '\n') ++line;
  };
  while (pos <= src.size()) {
    size_t open = src.find("{{", pos);
    std::string text(
        src.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
    if (open == std::string_view::npos) {
      if (!text.empty()) out.push_back(Piece{true, text, {}});
      count_lines(text);
      break;
    }
    size_t inner = open + 2;
    bool trim_left = inner + 1 < src.size() && src[inner] == '-' &&
                     (src[inner + 1] == ' ' || src[inner + 1] == '\t' || src[inner + 1] == '\n');
    if (trim_left) {
      size_t e = text.find_last_not_of(" \t\r\n");
      text = e == std::string::npos ? "" : text.substr(0, e + 1);
      inner += 2;
    }
    if (!text.empty()) out.push_back(Piece{true, text, {}});
    count_lines(src.substr(pos, open - pos));
    int action_line = line;
    // Comments: {{/* ... */}}
    if (src.substr(inner, 2) == "/*") {
      size_t cend = src.find("*/", inner + 2);
      if (cend == std::string_view::npos) return parse_error(action_line, "unclosed comment");
      size_t after = cend + 2;
      bool trim_right = false;
      if (src.substr(after, 4) == " -}}") {
        trim_right = true;
        after += 4;
      } else if (src.substr(after, 2) == "}}") {
        after += 2;
      } else {
        return parse_error(action_line, "comment ends before closing delimiter");
      }
      count_lines(src.substr(open, after - open));
      pos = after;
      if (trim_right) {
        while (pos < src.size() && std::isspace(static_cast<unsigned char>(src[pos]))) {
          if (src[pos] == '\n') ++line;
          ++pos;
        }
      }
      continue;
    }
    // Find the closing "}}" outside quoted strings.
    size_t i = inner;
    char quote = 0;
    size_t close = std::string_view::npos;
    for (; i < src.size(); ++i) {
      char c = src[i];
      if (quote) {
        if (c == '\\' && quote == '"') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
        continue;
      }
      if (c == '"' || c == '`') {
        quote = c;
      } else if (c == '}' && i + 1 < src.size() && src[i + 1] == '}') {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) return parse_error(action_line, "unclosed action");
    size_t body_end = close;
    bool trim_right = false;
    if (body_end >= inner + 2 && src[body_end - 1] == '-' &&
        std::isspace(static_cast<unsigned char>(src[body_end - 2]))) {
      trim_right = true;
      --body_end;
    }
    RawAction a;
    a.line = action_line;
    a.col = static_cast<int>(inner);
    a.toks = BERTH_TRY(lex_action(src.substr(inner, body_end - inner), action_line, a.col));
    count_lines(src.substr(open, close + 2 - open));
    out.push_back(Piece{false, "", std::move(a)});
    pos = close + 2;
    if (trim_right) {
      while (pos < src.size() && std::isspace(static_cast<unsigned char>(src[pos]))) {
        if (src[pos] == '\n') ++line;
        ++pos;
      }
    }
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  Result<std::unique_ptr<List>> parse_all() {
    auto list = std::make_unique<List>();
    std::string stop = BERTH_TRY(parse_list(*list));
    if (!stop.empty()) return parse_error(last_line_, fmt::format("unexpected {{{{{}}}}}", stop));
    return list;
  }

 private:
  // Parses nodes into `list` until {{end}} / {{else...}} or the end of input.
  // Returns "" at the end of input, "end", or "else" (the else action's
  // remaining tokens are left in else_rest_).
  Result<std::string> parse_list(List& list) {
    while (next_ < pieces_.size()) {
      Piece& p = pieces_[next_++];
      if (p.is_text) {
        auto n = std::make_unique<Node>();
        n->kind = Node::Text;
        n->text = std::move(p.text);
        list.nodes.push_back(std::move(n));
        continue;
      }
      RawAction& a = p.action;
      last_line_ = a.line;
      std::vector<Token>& t = a.toks;
      if (t.empty()) return parse_error(a.line, "missing value for command");
      if (t[0].kind == Token::Ident) {
        const std::string& kw = t[0].text;
        if (kw == "end") {
          if (t.size() > 1) return parse_error(a.line, "unexpected tokens after end");
          return std::string("end");
        }
        if (kw == "else") {
          else_rest_.assign(t.begin() + 1, t.end());
          else_line_ = a.line;
          return std::string("else");
        }
        if (kw == "if" || kw == "with" || kw == "range") {
          std::vector<Token> rest(t.begin() + 1, t.end());
          BERTH_TRY(parse_control(list, kw, rest, a.line, a.col));
          continue;
        }
        if (kw == "define" || kw == "template" || kw == "block" || kw == "break" ||
            kw == "continue") {
          return parse_error(a.line, fmt::format("{{{{{}}}}} is not supported", kw));
        }
      }
      auto n = std::make_unique<Node>();
      n->kind = Node::Action;
      n->pipe = BERTH_TRY(parse_pipeline(t, a.line, a.col, "command", true));
      list.nodes.push_back(std::move(n));
    }
    return std::string();
  }

  Result<void> parse_control(List& list, const std::string& kw, const std::vector<Token>& toks,
                             int line, int col) {
    auto n = std::make_unique<Node>();
    n->kind = kw == "if" ? Node::If : kw == "with" ? Node::With : Node::Range;
    n->pipe = BERTH_TRY(parse_pipeline(toks, line, col, kw, kw == "range" || kw == "with"));
    if (n->kind == Node::Range && n->pipe.decl.size() > 2)
      return parse_error(line, "too many declarations in range");
    if (n->kind != Node::Range && n->pipe.decl.size() > 1)
      return parse_error(line, fmt::format("too many declarations in {}", kw));
    size_t vars_before = vars_.size();
    for (auto& d : n->pipe.decl) vars_.push_back(d);
    std::string stop = BERTH_TRY(parse_list(n->body));
    if (stop.empty()) return parse_error(line, "unexpected EOF");
    if (stop == "else") {
      n->else_body = std::make_unique<List>();
      std::vector<Token> rest = std::move(else_rest_);
      int eline = else_line_;
      if (!rest.empty()) {
        // {{else if ...}} / {{else with ...}}: a nested control whose {{end}}
        // also closes this one.
        if (rest[0].kind != Token::Ident || (rest[0].text != "if" && rest[0].text != "with"))
          return parse_error(eline, "unexpected tokens after else");
        std::string nkw = rest[0].text;
        rest.erase(rest.begin());
        vars_.resize(vars_before);
        BERTH_TRY(parse_control(*n->else_body, nkw, rest, eline, col));
        list.nodes.push_back(std::move(n));
        return ok();
      }
      vars_.resize(vars_before);
      stop = BERTH_TRY(parse_list(*n->else_body));
      if (stop.empty()) return parse_error(line, "unexpected EOF");
      if (stop == "else") return parse_error(else_line_, "expected end; found {{else}}");
    }
    vars_.resize(vars_before);
    list.nodes.push_back(std::move(n));
    return ok();
  }

  Result<Pipeline> parse_pipeline(const std::vector<Token>& t, int line, int col,
                                  const std::string& context, bool allow_decl) {
    Pipeline p;
    p.line = line;
    p.col = col;
    size_t i = 0;
    // Declarations: $x := ... | $i, $e := ... | $x = ...
    if (!t.empty() && t[0].kind == Token::Var) {
      size_t j = 0;
      std::vector<std::string> names;
      while (j < t.size() && t[j].kind == Token::Var) {
        names.push_back(t[j].text);
        ++j;
        if (j < t.size() && t[j].kind == Token::Comma) {
          ++j;
          continue;
        }
        break;
      }
      if (j < t.size() && (t[j].kind == Token::Declare || t[j].kind == Token::Assign)) {
        if (names.size() > 1 && !allow_decl)
          return parse_error(line, "too many declarations in command");
        p.assign = t[j].kind == Token::Assign;
        p.decl = names;
        if (p.assign) {
          for (auto& nm : names)
            if (!var_known(nm))
              return parse_error(line, fmt::format("undefined variable \"{}\"", nm));
        }
        i = j + 1;
      }
    }
    size_t end = t.size();
    BERTH_TRY(parse_commands(t, i, end, line, p.cmds));
    if (p.cmds.empty()) return parse_error(line, fmt::format("missing value for {}", context));
    if (!p.assign)
      for (auto& d : p.decl)
        if (context == "command") vars_.push_back(d);
    return p;
  }

  bool var_known(const std::string& name) const {
    if (name == "$") return true;
    for (auto& v : vars_)
      if (v == name) return true;
    return false;
  }

  // Commands separated by '|' in t[i, end).
  Result<void> parse_commands(const std::vector<Token>& t, size_t i, size_t end, int line,
                              std::vector<Command>& cmds) {
    Command cur;
    while (i < end) {
      const Token& tok = t[i];
      if (tok.kind == Token::Pipe) {
        if (cur.args.empty()) return parse_error(line, "missing value for command");
        cmds.push_back(std::move(cur));
        cur = Command{};
        ++i;
        continue;
      }
      Arg a = BERTH_TRY(parse_operand(t, i, end, line));
      cur.args.push_back(std::move(a));
    }
    if (!cur.args.empty()) {
      cmds.push_back(std::move(cur));
    } else if (!cmds.empty()) {
      return parse_error(line, "missing value for command");
    }
    for (size_t c = 1; c < cmds.size(); ++c) {
      const Arg& first = cmds[c].args[0];
      if (first.kind != Arg::Function)
        return parse_error(line, fmt::format("non executable command in pipeline stage {}", c + 1));
    }
    for (auto& c : cmds) {
      if (c.args.size() > 1 && c.args[0].kind != Arg::Function && c.args[0].kind != Arg::Field &&
          c.args[0].kind != Arg::Variable) {
        return parse_error(line,
                           fmt::format("can't give argument to non-function {}", c.args[0].text));
      }
    }
    return ok();
  }

  // Field chain tokens directly attached (no space) to the previous operand.
  void take_chain(const std::vector<Token>& t, size_t& i, size_t end, Arg& a) {
    while (i < end && t[i].kind == Token::Field && !t[i].spaced) {
      a.chain.push_back(t[i].text);
      a.text += "." + t[i].text;
      ++i;
    }
  }

  Result<Arg> parse_operand(const std::vector<Token>& t, size_t& i, size_t end, int line) {
    const Token& tok = t[i];
    Arg a;
    a.text = tok.text;
    switch (tok.kind) {
      case Token::Dot:
        a.kind = Arg::Dot;
        ++i;
        if (i < end && t[i].kind == Token::Field && !t[i].spaced)
          return parse_error(line, "unexpected . after term \".\"");
        return a;
      case Token::Field:
        a.kind = Arg::Field;
        a.chain.push_back(tok.text);
        a.text = "." + tok.text;
        ++i;
        take_chain(t, i, end, a);
        return a;
      case Token::Var:
        if (!var_known(tok.text))
          return parse_error(line, fmt::format("undefined variable \"{}\"", tok.text));
        a.kind = Arg::Variable;
        a.name = tok.text;
        ++i;
        take_chain(t, i, end, a);
        return a;
      case Token::Literal:
        a.kind = Arg::Literal;
        a.literal = tok.value;
        ++i;
        return a;
      case Token::Ident:
        if (!function_names().count(tok.text))
          return parse_error(line, fmt::format("function \"{}\" not defined", tok.text));
        a.kind = Arg::Function;
        a.name = tok.text;
        ++i;
        return a;
      case Token::LParen: {
        // Find the matching ')'.
        size_t depth = 0, j = i;
        for (; j < end; ++j) {
          if (t[j].kind == Token::LParen) ++depth;
          if (t[j].kind == Token::RParen && --depth == 0) break;
        }
        if (j >= end) return parse_error(line, "unclosed left paren");
        auto sub = std::make_shared<Pipeline>();
        sub->line = line;
        BERTH_TRY(parse_commands(t, i + 1, j, line, sub->cmds));
        if (sub->cmds.empty()) return parse_error(line, "missing value for parenthesized pipeline");
        a.kind = Arg::Sub;
        a.sub = sub;
        a.text = "(...)";
        i = j + 1;
        take_chain(t, i, end, a);
        return a;
      }
      case Token::RParen:
        return parse_error(line, "unexpected right paren");
      case Token::Declare:
      case Token::Assign:
        return parse_error(line, fmt::format("unexpected \"{}\" in operand", tok.text));
      case Token::Comma:
        return parse_error(line, "unexpected \",\" in command");
      case Token::Pipe:
        break;
    }
    return parse_error(line, fmt::format("unexpected \"{}\" in operand", tok.text));
  }

  std::vector<Piece> pieces_;
  size_t next_ = 0;
  std::vector<std::string> vars_;
  std::vector<Token> else_rest_;
  int else_line_ = 1;
  int last_line_ = 1;
};

}  // namespace

Result<std::unique_ptr<List>> parse(std::string_view text) {
  auto pieces = BERTH_TRY(split_pieces(text));
  Parser p(std::move(pieces));
  return p.parse_all();
}

}  // namespace tmpl

Result<Template> Template::parse(std::string_view text) {
  auto list = BERTH_TRY(tmpl::parse(text));
  Template t;
  t.root_ = std::shared_ptr<const tmpl::List>(std::move(list));
  return t;
}

}  // namespace berth::cli
