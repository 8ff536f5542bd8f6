#include "cli/flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "base/strings.h"

namespace berth::cli {

void FlagSet::add_bool(const std::string& name, char shorthand, const std::string& help, bool def) {
  Flag f;
  f.b = def;
  f.def = def ? "true" : "";
  f.name = name;
  f.shorthand = shorthand;
  f.kind = Kind::Bool;
  f.help = help;
  flags_.push_back(std::move(f));
}

void FlagSet::add_string(const std::string& name, char shorthand, const std::string& def,
                         const std::string& help, const std::string& value_name) {
  Flag f;
  f.name = name;
  f.shorthand = shorthand;
  f.kind = Kind::String;
  f.help = help;
  f.def = def;
  f.s = def;
  f.value_name = value_name;
  flags_.push_back(std::move(f));
}

void FlagSet::add_list(const std::string& name, char shorthand, const std::string& help,
                       const std::string& value_name) {
  Flag f;
  f.name = name;
  f.shorthand = shorthand;
  f.kind = Kind::List;
  f.help = help;
  f.value_name = value_name;
  flags_.push_back(std::move(f));
}

void FlagSet::add_int(const std::string& name, char shorthand, long long def,
                      const std::string& help) {
  Flag f;
  f.name = name;
  f.shorthand = shorthand;
  f.kind = Kind::Int;
  f.help = help;
  f.i = def;
  f.def = std::to_string(def);
  f.value_name = "int";
  flags_.push_back(std::move(f));
}

FlagSet::Flag* FlagSet::find_long(const std::string& name) {
  for (auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

FlagSet::Flag* FlagSet::find_short(char c) {
  for (auto& f : flags_)
    if (f.shorthand == c) return &f;
  return nullptr;
}

std::string FlagSet::flag_label(const Flag& f) {
  return f.shorthand ? fmt::format("-{}, --{}", f.shorthand, f.name) : "--" + f.name;
}

static std::optional<bool> parse_go_bool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
    return false;
  return std::nullopt;
}

Result<void> FlagSet::set(Flag& f, const std::string& value, bool explicit_value) {
  f.changed = true;
  switch (f.kind) {
    case Kind::Bool: {
      if (!explicit_value) {
        f.b = true;
        return ok();
      }
      auto b = parse_go_bool(value);
      if (!b)
        return make_error(Errc::InvalidArgument,
                          "invalid argument \"{}\" for \"{}\" flag: strconv.ParseBool: parsing "
                          "\"{}\": invalid syntax",
                          value, flag_label(f), value);
      f.b = *b;
      return ok();
    }
    case Kind::String:
      f.s = value;
      return ok();
    case Kind::List:
      // docker's filter options check "name=value" as the flag is parsed
      // (exit 125 with the usage) and skip an empty value.
      if (f.value_name == "filter") {
        if (value.empty()) return ok();
        if (value.find('=') == std::string::npos)
          return make_error(Errc::InvalidArgument,
                            "invalid argument \"{}\" for \"{}\" flag: bad format of filter "
                            "(expected name=value)",
                            value, flag_label(f));
      }
      f.list.push_back(value);
      return ok();
    case Kind::Int: {
      auto n = parse_int(value);
      if (!n)
        return make_error(Errc::InvalidArgument,
                          "invalid argument \"{}\" for \"{}\" flag: strconv.ParseInt: parsing "
                          "\"{}\": invalid syntax",
                          value, flag_label(f), value);
      f.i = *n;
      return ok();
    }
  }
  return ok();
}

Result<std::vector<std::string>> FlagSet::parse(const std::vector<std::string>& args,
                                                bool interspersed) {
  std::vector<std::string> positional;
  for (size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + k + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional.push_back(a);
      if (!interspersed) {
        positional.insert(positional.end(), args.begin() + k + 1, args.end());
        break;
      }
      continue;
    }
    if (a[1] == '-') {
      std::string body = a.substr(2);
      std::string name = body, value;
      bool has_value = false;
      if (auto eq = body.find('='); eq != std::string::npos) {
        name = body.substr(0, eq);
        value = body.substr(eq + 1);
        has_value = true;
      }
      Flag* f = find_long(name);
      if (!f) {
        if (name == "help") {
          help_ = true;
          continue;
        }
        return make_error(Errc::InvalidArgument, "unknown flag: --{}", name);
      }
      if (f->kind != Kind::Bool && !has_value) {
        if (k + 1 >= args.size())
          return make_error(Errc::InvalidArgument, "flag needs an argument: --{}", name);
        value = args[++k];
        has_value = true;
      }
      BERTH_TRY(set(*f, value, has_value));
      continue;
    }
    // Shorthands: -abc, -fVALUE, -f VALUE, -f=VALUE
    std::string shorts = a.substr(1);
    for (size_t j = 0; j < shorts.size(); ++j) {
      char c = shorts[j];
      Flag* f = find_short(c);
      if (!f) {
        if (c == 'h') {
          help_ = true;
          continue;
        }
        return make_error(Errc::InvalidArgument, "unknown shorthand flag: '{}' in -{}", c, shorts);
      }
      if (f->kind == Kind::Bool) {
        if (j + 1 < shorts.size() && shorts[j + 1] == '=') {
          BERTH_TRY(set(*f, shorts.substr(j + 2), true));
          break;
        }
        BERTH_TRY(set(*f, "", false));
        continue;
      }
      std::string value;
      if (j + 1 < shorts.size()) {
        value = shorts.substr(j + 1);
        if (value[0] == '=') value = value.substr(1);
      } else if (k + 1 < args.size()) {
        value = args[++k];
      } else {
        return make_error(Errc::InvalidArgument, "flag needs an argument: '{}' in -{}", c, shorts);
      }
      BERTH_TRY(set(*f, value, true));
      break;
    }
  }
  return positional;
}

bool FlagSet::get_bool(const std::string& name) const {
  for (auto& f : flags_)
    if (f.name == name) return f.b;
  return false;
}

const std::string& FlagSet::get_string(const std::string& name) const {
  static const std::string kEmpty;
  for (auto& f : flags_)
    if (f.name == name) return f.s;
  return kEmpty;
}

const std::vector<std::string>& FlagSet::get_list(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  for (auto& f : flags_)
    if (f.name == name) return f.list;
  return kEmpty;
}

long long FlagSet::get_int(const std::string& name) const {
  for (auto& f : flags_)
    if (f.name == name) return f.i;
  return 0;
}

bool FlagSet::changed(const std::string& name) const {
  for (auto& f : flags_)
    if (f.name == name) return f.changed;
  return false;
}

std::string FlagSet::usage() const {
  std::vector<std::pair<std::string, std::string>> rows;
  for (auto& f : flags_) {
    std::string left = f.shorthand ? fmt::format("-{}, --{}", f.shorthand, f.name)
                                   : fmt::format("    --{}", f.name);
    if (f.kind != Kind::Bool) left += " " + f.value_name;
    std::string help = f.help;
    if ((f.kind == Kind::String && !f.def.empty()) || (f.kind == Kind::Int && f.i != 0) ||
        (f.kind == Kind::Bool && !f.def.empty()))
      help += fmt::format(" (default {})", f.kind == Kind::String ? "\"" + f.def + "\"" : f.def);
    rows.emplace_back(left, help);
  }
  size_t w = 0;
  for (auto& r : rows) w = std::max(w, r.first.size());
  std::string out;
  // Continuation lines of a multi-line help text line up under its first line.
  std::string indent = "\n" + std::string(w + 5, ' ');
  for (auto& r : rows) {
    std::string help;
    for (char c : r.second) help += c == '\n' ? indent : std::string(1, c);
    out += fmt::format("  {:<{}}   {}\n", r.first, w, help);
  }
  return out;
}

}  // namespace berth::cli
