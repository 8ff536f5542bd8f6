// cli/flags.h — docker-style (spf13/pflag) flag parsing: --long, --long=v,
// --long v, -s, -sv, -s v, -s=v, combined booleans (-aq), --bool=false,
// repeatable list flags, "--" ends flags. Errors carry pflag's wording
// ("unknown flag: --foo", "unknown shorthand flag: 'x' in -x", "flag needs an
// argument: --format", "invalid argument \"x\" for \"-n, --limit\" flag: ...")
// so `berth` reports them the way docker does (exit 125).
// CLI11 is not used here: docker's messages and its global-flags-then-command
// grammar are what scripts and users see, so the parser is this small one.
// Depends on: base.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::cli {

class FlagSet {
 public:
  enum class Kind { Bool, String, List, Int };

  void add_bool(const std::string& name, char shorthand, const std::string& help, bool def = false);
  void add_string(const std::string& name, char shorthand, const std::string& def,
                  const std::string& help, const std::string& value_name = "string");
  void add_list(const std::string& name, char shorthand, const std::string& help,
                const std::string& value_name = "list");
  void add_int(const std::string& name, char shorthand, long long def, const std::string& help);

  // Parses flags out of args; returns the positional arguments. With
  // `interspersed` false, the first positional stops flag parsing (global
  // flags before the command). InvalidArgument with pflag's message.
  // "-h"/"--help" set help_requested() instead of failing.
  Result<std::vector<std::string>> parse(const std::vector<std::string>& args,
                                         bool interspersed = true);

  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  const std::vector<std::string>& get_list(const std::string& name) const;
  long long get_int(const std::string& name) const;
  bool changed(const std::string& name) const;
  bool help_requested() const { return help_; }

  // "Options:" block as docker prints it (aligned, one flag per line).
  std::string usage() const;

 private:
  struct Flag {
    std::string name;
    char shorthand = 0;
    Kind kind = Kind::Bool;
    std::string help;
    std::string value_name;
    std::string def;
    bool b = false;
    std::string s;
    std::vector<std::string> list;
    long long i = 0;
    bool changed = false;
  };
  Flag* find_long(const std::string& name);
  Flag* find_short(char c);
  Result<void> set(Flag& f, const std::string& value, bool explicit_value);
  static std::string flag_label(const Flag& f);

  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace berth::cli
