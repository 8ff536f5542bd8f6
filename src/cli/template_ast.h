// cli/template_ast.h — parse tree of cli/template.h (internal to cli).
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/json.h"

namespace berth::cli::tmpl {

struct Pipeline;

struct Arg {
  enum Kind { Dot, Field, Variable, Function, Literal, Sub } kind = Dot;
  std::string name;                // variable ("$x", "$") or function name
  std::vector<std::string> chain;  // field chain after ., $x or (pipeline)
  OrderedJson literal;             // Literal
  std::shared_ptr<Pipeline> sub;   // Sub
  std::string text;                // source text, for error messages ("<.Foo>")
};

struct Command {
  std::vector<Arg> args;
};

struct Pipeline {
  std::vector<std::string> decl;  // "$i", "$e" (declared, or assigned when `assign`)
  bool assign = false;            // `=` instead of `:=`
  std::vector<Command> cmds;
  int line = 1;
  int col = 0;
};

struct Node;
struct List {
  std::vector<std::unique_ptr<Node>> nodes;
};

struct Node {
  enum Kind { Text, Action, If, With, Range } kind = Text;
  std::string text;  // Text
  Pipeline pipe;     // Action/If/With/Range
  List body;         // If/With/Range
  std::unique_ptr<List> else_body;
};

}  // namespace berth::cli::tmpl
