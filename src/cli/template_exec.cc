// Evaluator of the Go template subset (see cli/template.h).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "base/strings.h"
#include "cli/template.h"
#include "cli/template_ast.h"

namespace berth::cli {
namespace tmpl {
namespace {

// A value during evaluation: JSON, or "missing" (a map key that is not
// there: Go prints "<no value>"). Parts of the data given to execute() are
// borrowed, not copied (a list formats every row through here); `ref` only
// ever points into that data, which outlives the evaluation.
struct Value {
  Value() = default;
  explicit Value(OrderedJson v, bool is_missing = false) : own(std::move(v)), missing(is_missing) {}
  static Value borrow(const OrderedJson& data) {
    Value v;
    v.ref = &data;
    return v;
  }
  const OrderedJson& j() const { return ref ? *ref : own; }
  // `sub` lies inside j(): borrowed when this value is, else copied.
  Value part(const OrderedJson& sub) const { return ref ? borrow(sub) : Value(sub); }

  OrderedJson own;
  const OrderedJson* ref = nullptr;
  bool missing = false;
  bool is_root = false;  // the data passed to execute (for json's escaping)
};

bool truth(const Value& v) {
  if (v.missing) return false;
  const OrderedJson& j = v.j();
  switch (j.type()) {
    case OrderedJson::value_t::null:
      return false;
    case OrderedJson::value_t::boolean:
      return j.get<bool>();
    case OrderedJson::value_t::string:
      return !j.get_ref<const std::string&>().empty();
    case OrderedJson::value_t::array:
    case OrderedJson::value_t::object:
      return !j.empty();
    case OrderedJson::value_t::number_integer:
      return j.get<int64_t>() != 0;
    case OrderedJson::value_t::number_unsigned:
      return j.get<uint64_t>() != 0;
    case OrderedJson::value_t::number_float:
      return j.get<double>() != 0;
    default:
      return false;
  }
}

std::string type_name(const OrderedJson& j) {
  switch (j.type()) {
    case OrderedJson::value_t::null:
      return "<nil>";
    case OrderedJson::value_t::boolean:
      return "bool";
    case OrderedJson::value_t::string:
      return "string";
    case OrderedJson::value_t::array:
      return "[]interface {}";
    case OrderedJson::value_t::object:
      return "map[string]interface {}";
    case OrderedJson::value_t::number_float:
      return "float64";
    default:
      return "int";
  }
}

std::string print_value(const Value& v) { return v.missing ? "<no value>" : go_print(v.j()); }

class Exec {
 public:
  Exec(const OrderedJson& root, const TemplateExecOptions& o) : o_(o) {
    root_ = Value::borrow(root);
    root_.is_root = true;
    vars_.push_back({"$", root_});
  }

  Result<void> run_list(const List& l, const Value& dot) {
    for (auto& n : l.nodes) BERTH_TRY(run_node(*n, dot));
    return ok();
  }

  std::string out;

 private:
  Error exec_error(const Pipeline& p, const std::string& at, const std::string& msg) {
    return make_error(Errc::InvalidArgument, "template: :{}:{}: executing \"\" at <{}>: {}", p.line,
                      p.col, at, msg);
  }

  Result<void> run_node(const Node& n, const Value& dot) {
    switch (n.kind) {
      case Node::Text:
        out += n.text;
        return ok();
      case Node::Action: {
        Value v = BERTH_TRY(eval_pipeline(n.pipe, dot));
        if (n.pipe.decl.empty()) out += print_value(v);
        return ok();
      }
      case Node::If:
      case Node::With: {
        size_t mark = vars_.size();
        Value v = BERTH_TRY(eval_pipeline(n.pipe, dot));
        Result<void> r;
        if (truth(v)) {
          r = run_list(n.body, n.kind == Node::With ? v : dot);
        } else if (n.else_body) {
          vars_.resize(mark);
          r = run_list(*n.else_body, dot);
        }
        vars_.resize(mark);
        return r;
      }
      case Node::Range:
        return run_range(n, dot);
    }
    return ok();
  }

  Result<void> run_range(const Node& n, const Value& dot) {
    size_t mark = vars_.size();
    // The declared variables are bound per iteration, not to the pipeline value.
    Pipeline p = n.pipe;
    std::vector<std::string> decl = std::move(p.decl);
    p.decl.clear();
    Value v = BERTH_TRY(eval_pipeline(p, dot));
    // elem is a part of v, or (integer ranges) a value of its own.
    auto iterate = [&](const OrderedJson& key, const Value& elem) -> Result<void> {
      vars_.resize(mark);
      if (decl.size() == 1) vars_.push_back({decl[0], elem});
      if (decl.size() == 2) {
        vars_.push_back({decl[0], Value(key)});
        vars_.push_back({decl[1], elem});
      }
      return run_list(n.body, elem);
    };
    size_t count = 0;
    if (!v.missing && v.j().is_array()) {
      for (size_t i = 0; i < v.j().size(); ++i, ++count) {
        auto r = iterate(OrderedJson(static_cast<int64_t>(i)), v.part(v.j()[i]));
        if (!r) return vars_.resize(mark), r;
      }
    } else if (!v.missing && v.j().is_object()) {
      for (const auto& [k, e] : sorted_members(v.j())) {  // Go ranges over a map by key
        ++count;
        auto r = iterate(OrderedJson(*k), v.part(*e));
        if (!r) return vars_.resize(mark), r;
      }
    } else if (!v.missing && v.j().is_number_integer()) {
      int64_t lim = v.j().get<int64_t>();
      for (int64_t i = 0; i < lim; ++i, ++count) {
        auto r = iterate(OrderedJson(i), Value(OrderedJson(i)));
        if (!r) return vars_.resize(mark), r;
      }
    } else if (!v.missing && !v.j().is_null()) {
      vars_.resize(mark);
      return exec_error(n.pipe, "range",
                        fmt::format("range can't iterate over {}", go_print(v.j())));
    }
    vars_.resize(mark);
    if (count == 0 && n.else_body) return run_list(*n.else_body, dot);
    return ok();
  }

  Result<Value> eval_pipeline(const Pipeline& p, const Value& dot) {
    std::optional<Value> prev;
    for (const Command& c : p.cmds) prev = BERTH_TRY(eval_command(p, c, dot, prev));
    Value v = prev ? *prev : Value{};
    if (!p.decl.empty()) {
      if (p.assign) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == p.decl[0]) {
            it->second = v;
            break;
          }
      } else {
        vars_.push_back({p.decl[0], v});
      }
    }
    return v;
  }

  Result<Value> field_chain(const Pipeline& p, const Value& start,
                            const std::vector<std::string>& chain, const std::string& text) {
    if (chain.empty() || start.missing) return start;
    // Walks by pointer: only the value at the end is borrowed or copied.
    const OrderedJson* j = &start.j();
    bool root = start.is_root;
    for (const std::string& f : chain) {
      if (j->is_object()) {
        auto it = j->find(f);
        if (it == j->end())
          if (auto g = o_.go_field_names.find(f); g != o_.go_field_names.end())
            it = j->find(g->second);
        if (it == j->end()) {
          if (root && !o_.strict_type.empty())
            return exec_error(p, text,
                              fmt::format("can't evaluate field {} in type {}", f, o_.strict_type));
          return Value(OrderedJson(), true);
        }
        j = &*it;
        root = false;
        continue;
      }
      if (j->is_null())
        return exec_error(p, text, fmt::format("nil pointer evaluating interface {{}}.{}", f));
      return exec_error(p, text,
                        fmt::format("can't evaluate field {} in type {}", f, type_name(*j)));
    }
    return start.part(*j);
  }

  Result<Value> eval_arg(const Pipeline& p, const Arg& a, const Value& dot) {
    switch (a.kind) {
      case Arg::Dot:
        return dot;
      case Arg::Field:
        return field_chain(p, dot, a.chain, a.text);
      case Arg::Variable: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == a.name) return field_chain(p, it->second, a.chain, a.text);
        return exec_error(p, a.text, fmt::format("undefined variable: {}", a.name));
      }
      case Arg::Literal:
        return Value{a.literal};
      case Arg::Sub: {
        Pipeline sub = *a.sub;
        sub.line = p.line;
        sub.col = p.col;
        Value v = BERTH_TRY(eval_pipeline(sub, dot));
        return field_chain(p, v, a.chain, a.text);
      }
      case Arg::Function: {
        Command c;
        c.args.push_back(a);
        return eval_command(p, c, dot, std::nullopt);
      }
    }
    return Value{};
  }

  Result<Value> eval_command(const Pipeline& p, const Command& c, const Value& dot,
                             const std::optional<Value>& prev) {
    const Arg& first = c.args[0];
    if (first.kind == Arg::Field && (o_.labels || (o_.header && c.args.size() > 1)) &&
        dot.is_root && first.chain.size() == 1 && first.chain[0] == "Label") {
      std::vector<Value> args;
      for (size_t i = 1; i < c.args.size(); ++i)
        args.push_back(BERTH_TRY(eval_arg(p, c.args[i], dot)));
      if (prev) args.push_back(*prev);
      if (args.size() != 1)
        return exec_error(
            p, first.text,
            fmt::format("wrong number of args for Label: want 1 got {}", args.size()));
      std::string key = BERTH_TRY(want_string(p, "Label", args[0]));
      if (o_.header) {
        // docker's SubHeaderContext.Label: the key's last dotted part, '-'
        // and '_' as spaces ("com.example.app-name" -> "app name").
        std::string h = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
        std::replace(h.begin(), h.end(), '-', ' ');
        std::replace(h.begin(), h.end(), '_', ' ');
        return Value(OrderedJson(h));
      }
      auto it = o_.labels->find(key);
      return Value(OrderedJson(it == o_.labels->end() ? std::string() : it->second));
    }
    if (first.kind != Arg::Function) {
      if (prev) return exec_error(p, first.text, "can't give argument to non-function");
      return eval_arg(p, first, dot);
    }
    std::vector<Value> args;
    for (size_t i = 1; i < c.args.size(); ++i)
      args.push_back(BERTH_TRY(eval_arg(p, c.args[i], dot)));
    if (prev) args.push_back(*prev);
    return call(p, first.name, args);
  }

  Error arity(const Pipeline& p, const std::string& fn, size_t want, size_t got) {
    return exec_error(p, fn,
                      fmt::format("wrong number of args for {}: want {} got {}", fn, want, got));
  }

  Result<std::string> want_string(const Pipeline& p, const std::string& fn, const Value& v) {
    if (!v.missing && v.j().is_string()) return v.j().get<std::string>();
    return exec_error(
        p, fn, fmt::format("error calling {}: expected string; found {}", fn, print_value(v)));
  }

  Result<int64_t> want_int(const Pipeline& p, const std::string& fn, const Value& v) {
    if (!v.missing && v.j().is_number_integer()) return v.j().get<int64_t>();
    return exec_error(
        p, fn, fmt::format("error calling {}: expected integer; found {}", fn, print_value(v)));
  }

  Result<int> compare(const Pipeline& p, const std::string& fn, const Value& a, const Value& b) {
    const OrderedJson& x = a.j();
    const OrderedJson& y = b.j();
    if (x.is_number() && y.is_number()) {
      double dx = x.get<double>(), dy = y.get<double>();
      if (x.is_number_integer() && y.is_number_integer()) {
        int64_t ix = x.get<int64_t>(), iy = y.get<int64_t>();
        return ix < iy ? -1 : ix > iy ? 1 : 0;
      }
      return dx < dy ? -1 : dx > dy ? 1 : 0;
    }
    if (x.is_string() && y.is_string()) {
      int c = x.get_ref<const std::string&>().compare(y.get_ref<const std::string&>());
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (fn == "eq" || fn == "ne") {
      if (x.is_boolean() && y.is_boolean()) return x == y ? 0 : 1;
      if (x.is_null() && y.is_null()) return 0;
    }
    return exec_error(p, fn,
                      fmt::format("error calling {}: incompatible types for comparison", fn));
  }

  Result<Value> call(const Pipeline& p, const std::string& fn, std::vector<Value>& args) {
    const size_t n = args.size();
    if (o_.header) {
      // docker's header functions: the first argument unchanged.
      static const char* kIdentity[] = {"json",  "join",  "split", "lower",
                                        "upper", "title", "pad",   "truncate"};
      for (const char* name : kIdentity)
        if (fn == name) {
          if (n == 0) return arity(p, fn, 1, 0);
          if (fn == "json" && !args[0].j().is_string()) return Value{OrderedJson("")};
          return args[0];
        }
    }
    if (fn == "json") {
      if (n != 1) return arity(p, fn, 1, n);
      if (args[0].missing) return Value{OrderedJson("null")};
      return Value{OrderedJson(go_json(args[0].j(), args[0].is_root && o_.root_json_escapes_html))};
    }
    if (fn == "lower" || fn == "upper" || fn == "title") {
      if (n != 1) return arity(p, fn, 1, n);
      std::string s = BERTH_TRY(want_string(p, fn, args[0]));
      bool word_start = true;
      for (char& ch : s) {
        unsigned char u = static_cast<unsigned char>(ch);
        if (fn == "lower") ch = static_cast<char>(std::tolower(u));
        if (fn == "upper") ch = static_cast<char>(std::toupper(u));
        if (fn == "title") {
          if (word_start) ch = static_cast<char>(std::toupper(u));
          word_start = std::isspace(u) || std::ispunct(u);
        }
      }
      return Value{OrderedJson(s)};
    }
    if (fn == "join") {
      if (n != 2) return arity(p, fn, 2, n);
      std::string sep = BERTH_TRY(want_string(p, fn, args[1]));
      if (args[0].missing || args[0].j().is_null()) return Value{OrderedJson("")};
      if (!args[0].j().is_array())
        return exec_error(
            p, fn,
            fmt::format("error calling join: expected a list; found {}", print_value(args[0])));
      std::vector<std::string> parts;
      for (const OrderedJson& e : args[0].j()) parts.push_back(go_print(e));
      return Value{OrderedJson(join(parts, sep))};
    }
    if (fn == "split") {
      if (n != 2) return arity(p, fn, 2, n);
      std::string s = BERTH_TRY(want_string(p, fn, args[0]));
      std::string sep = BERTH_TRY(want_string(p, fn, args[1]));
      OrderedJson arr = OrderedJson::array();
      if (sep.empty()) {
        for (char ch : s) arr.push_back(std::string(1, ch));
      } else {
        size_t pos = 0;
        while (true) {
          size_t at = s.find(sep, pos);
          arr.push_back(s.substr(pos, at == std::string::npos ? std::string::npos : at - pos));
          if (at == std::string::npos) break;
          pos = at + sep.size();
        }
      }
      return Value{arr};
    }
    if (fn == "pad") {
      if (n != 3) return arity(p, fn, 3, n);
      std::string s = BERTH_TRY(want_string(p, fn, args[0]));
      int64_t l = BERTH_TRY(want_int(p, fn, args[1]));
      int64_t r = BERTH_TRY(want_int(p, fn, args[2]));
      return Value{OrderedJson(std::string(std::max<int64_t>(l, 0), ' ') + s +
                               std::string(std::max<int64_t>(r, 0), ' '))};
    }
    if (fn == "truncate") {
      if (n != 2) return arity(p, fn, 2, n);
      std::string s = BERTH_TRY(want_string(p, fn, args[0]));
      int64_t len = BERTH_TRY(want_int(p, fn, args[1]));
      if (len >= 0 && static_cast<size_t>(len) < s.size()) s.resize(static_cast<size_t>(len));
      return Value{OrderedJson(s)};
    }
    if (fn == "printf") {
      if (n < 1) return arity(p, fn, 1, 0);
      std::string f = BERTH_TRY(want_string(p, fn, args[0]));
      std::vector<OrderedJson> rest;
      for (size_t i = 1; i < n; ++i) rest.push_back(args[i].missing ? OrderedJson() : args[i].j());
      return Value{OrderedJson(go_sprintf(f, rest))};
    }
    if (fn == "print" || fn == "println") {
      // Go's Sprint: a space between operands when neither is a string.
      std::string s;
      for (size_t i = 0; i < n; ++i) {
        bool str = !args[i].missing && args[i].j().is_string();
        bool prev_str = i > 0 && !args[i - 1].missing && args[i - 1].j().is_string();
        if (i > 0 && (fn == "println" || (!str && !prev_str))) s += ' ';
        s += print_value(args[i]);
      }
      if (fn == "println") s += '\n';
      return Value{OrderedJson(s)};
    }
    if (fn == "len") {
      if (n != 1) return arity(p, fn, 1, n);
      const OrderedJson& j = args[0].j();
      if (args[0].missing || !(j.is_string() || j.is_array() || j.is_object()))
        return exec_error(p, fn, fmt::format("error calling len: len of type {}", type_name(j)));
      size_t len = j.is_string() ? j.get_ref<const std::string&>().size() : j.size();
      return Value{OrderedJson(static_cast<int64_t>(len))};
    }
    if (fn == "index") {
      if (n < 1) return arity(p, fn, 1, 0);
      Value v = args[0];
      for (size_t i = 1; i < n; ++i) {
        if (v.missing) return v;
        const OrderedJson& k = args[i].j();
        if (v.j().is_array() && k.is_number_integer()) {
          int64_t idx = k.get<int64_t>();
          if (idx < 0 || static_cast<size_t>(idx) >= v.j().size())
            return exec_error(p, fn,
                              fmt::format("error calling index: index out of range: {}", idx));
          v = v.part(v.j()[static_cast<size_t>(idx)]);
        } else if (v.j().is_object() && k.is_string()) {
          auto it = v.j().find(k.get<std::string>());
          v = it == v.j().end() ? Value(OrderedJson(), true) : v.part(*it);
        } else if (v.j().is_null()) {
          return Value{OrderedJson(), true};
        } else {
          return exec_error(p, fn,
                            fmt::format("error calling index: cannot index {} with {}",
                                        type_name(v.j()), go_print(k)));
        }
      }
      return v;
    }
    if (fn == "not") {
      if (n != 1) return arity(p, fn, 1, n);
      return Value{OrderedJson(!truth(args[0]))};
    }
    if (fn == "and" || fn == "or") {
      if (n < 1) return arity(p, fn, 1, 0);
      for (size_t i = 0; i + 1 < n; ++i)
        if (truth(args[i]) == (fn == "or")) return args[i];
      return args[n - 1];
    }
    if (fn == "eq") {
      if (n < 2) return arity(p, fn, 2, n);
      for (size_t i = 1; i < n; ++i)
        if (BERTH_TRY(compare(p, fn, args[0], args[i])) == 0) return Value{OrderedJson(true)};
      return Value{OrderedJson(false)};
    }
    if (fn == "ne" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge") {
      if (n != 2) return arity(p, fn, 2, n);
      int c = BERTH_TRY(compare(p, fn, args[0], args[1]));
      bool r = fn == "ne"   ? c != 0
               : fn == "lt" ? c < 0
               : fn == "le" ? c <= 0
               : fn == "gt" ? c > 0
                            : c >= 0;
      return Value{OrderedJson(r)};
    }
    return exec_error(p, fn, fmt::format("function \"{}\" not defined", fn));
  }

  const TemplateExecOptions& o_;
  Value root_;
  std::vector<std::pair<std::string, Value>> vars_;
};

// root_fields(): false when the data may be read as a whole.
bool pipeline_reads(const Pipeline& p, bool at_root, std::set<std::string>& out);

bool arg_reads(const Arg& a, bool at_root, std::set<std::string>& out) {
  switch (a.kind) {
    case Arg::Dot:
      return !at_root;
    case Arg::Field:
      if (at_root && !a.chain.empty()) out.insert(a.chain[0]);
      return true;
    case Arg::Variable:  // $ is the data; any other variable may hold it
      return false;
    case Arg::Literal:
    case Arg::Function:
      return true;
    case Arg::Sub:
      return pipeline_reads(*a.sub, at_root, out);
  }
  return false;
}

bool pipeline_reads(const Pipeline& p, bool at_root, std::set<std::string>& out) {
  for (const Command& c : p.cmds)
    for (const Arg& a : c.args)
      if (!arg_reads(a, at_root, out)) return false;
  return true;
}

// Inside with/range bodies dot is the pipeline's value, not the data.
bool list_reads(const List& l, bool at_root, std::set<std::string>& out) {
  for (const auto& n : l.nodes) {
    if (n->kind == Node::Text) continue;
    if (!pipeline_reads(n->pipe, at_root, out)) return false;
    if (n->kind == Node::Action) continue;
    if (!list_reads(n->body, n->kind == Node::If && at_root, out)) return false;
    if (n->else_body && !list_reads(*n->else_body, at_root, out)) return false;
  }
  return true;
}

}  // namespace
}  // namespace tmpl

std::optional<std::set<std::string>> Template::root_fields() const {
  std::set<std::string> out;
  if (!root_ || !tmpl::list_reads(*root_, true, out)) return std::nullopt;
  return out;
}

Result<std::string> Template::execute(const OrderedJson& data,
                                      const TemplateExecOptions& opts) const {
  tmpl::Exec e(data, opts);
  tmpl::Value dot = tmpl::Value::borrow(data);
  dot.is_root = true;
  BERTH_TRY(e.run_list(*root_, dot));
  return std::move(e.out);
}

}  // namespace berth::cli
