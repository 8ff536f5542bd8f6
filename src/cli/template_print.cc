// Go-style printing of JSON values: %v, json, Sprintf (see cli/template.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/strings.h"
#include "cli/template.h"

namespace berth::cli {
namespace {

std::string go_float(double d) {
  // fmt's %v of a float64: %g with the shortest precision, exponent from 21.
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21)
    return fmt::format("{:.0f}", d);
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (std::isnan(d)) return "NaN";
  std::string s = fmt::format("{}", d);
  // fmt writes "1e+21"/"1.5e-07" like Go; Go always has a sign and 2 digits.
  return s;
}

std::string pad(std::string s, int width, bool minus, bool zero) {
  int len = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++len;
  if (width <= len) return s;
  size_t fill = static_cast<size_t>(width - len);
  if (minus) return s + std::string(fill, ' ');
  if (zero) {
    size_t at = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    return s.insert(at, fill, '0');
  }
  return std::string(fill, ' ') + s;
}

}  // namespace

std::vector<std::pair<const std::string*, const OrderedJson*>> sorted_members(
    const OrderedJson& o) {
  std::vector<std::pair<const std::string*, const OrderedJson*>> out;
  if (!o.is_object()) return out;
  for (auto it = o.begin(); it != o.end(); ++it) out.emplace_back(&it.key(), &it.value());
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return *a.first < *b.first; });
  return out;
}

std::string go_print(const OrderedJson& v) {
  switch (v.type()) {
    case OrderedJson::value_t::null:
      return "<nil>";
    case OrderedJson::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case OrderedJson::value_t::string:
      return v.get<std::string>();
    case OrderedJson::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case OrderedJson::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case OrderedJson::value_t::number_float:
      return go_float(v.get<double>());
    case OrderedJson::value_t::array: {
      std::string s = "[";
      bool first = true;
      for (const OrderedJson& e : v) {
        if (!first) s += ' ';
        first = false;
        s += go_print(e);
      }
      return s + "]";
    }
    case OrderedJson::value_t::object: {
      std::string s = "map[";
      bool first = true;
      for (const auto& [k, e] : sorted_members(v)) {
        if (!first) s += ' ';
        first = false;
        s += *k + ":" + go_print(*e);
      }
      return s + "]";
    }
    default:
      return "";
  }
}

std::string go_json(const OrderedJson& v, bool escape_html) {
  std::string s = v.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  if (!escape_html) return s;
  // '<', '>' and '&' only occur inside strings in JSON text.
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else {
      out += c;
    }
  }
  return out;
}

std::string go_sprintf(std::string_view f, const std::vector<OrderedJson>& args) {
  std::string out;
  size_t argi = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    ++i;
    bool minus = false, plus = false, sharp = false, zero = false, space = false;
    for (; i < f.size(); ++i) {
      char c = f[i];
      if (c == '-')
        minus = true;
      else if (c == '+')
        plus = true;
      else if (c == '#')
        sharp = true;
      else if (c == '0')
        zero = !minus;
      else if (c == ' ')
        space = true;
      else
        break;
    }
    int width = -1, prec = -1;
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])))
      width = (width < 0 ? 0 : width * 10) + (f[i++] - '0');
    if (i < f.size() && f[i] == '.') {
      ++i;
      prec = 0;
      while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])))
        prec = prec * 10 + (f[i++] - '0');
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = f[i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (argi >= args.size()) {
      out += fmt::format("%!{}(MISSING)", verb);
      continue;
    }
    const OrderedJson& a = args[argi++];
    std::string s;
    auto bad = [&] {
      std::string tn = a.is_string()         ? "string"
                       : a.is_boolean()      ? "bool"
                       : a.is_number_float() ? "float64"
                       : a.is_number()       ? "int"
                       : a.is_null()         ? "<nil>"
                                             : "interface {}";
      return fmt::format("%!{}({}={})", verb, tn, go_print(a));
    };
    switch (verb) {
      case 'v':
      case 's':
        if (verb == 's' && !(a.is_string() || a.is_array() || a.is_object())) {
          s = a.is_null() ? "%!s(<nil>)" : bad();
          break;
        }
        s = go_print(a);
        if (prec >= 0 && a.is_string() && static_cast<int>(s.size()) > prec) s.resize(prec);
        break;
      case 'q':
        s = a.is_string() ? go_quote(a.get<std::string>()) : bad();
        break;
      case 't':
        s = a.is_boolean() ? go_print(a) : bad();
        break;
      case 'd':
        if (a.is_number_integer()) {
          int64_t n = a.get<int64_t>();
          s = std::to_string(n);
          if (plus && n >= 0)
            s = "+" + s;
          else if (space && n >= 0)
            s = " " + s;
        } else {
          s = bad();
        }
        break;
      case 'x':
      case 'X':
        if (a.is_number_integer()) {
          s = verb == 'x' ? fmt::format("{:x}", a.get<int64_t>())
                          : fmt::format("{:X}", a.get<int64_t>());
          if (sharp) s = (verb == 'x' ? "0x" : "0X") + s;
        } else if (a.is_string()) {
          for (unsigned char c : a.get<std::string>())
            s += verb == 'x' ? fmt::format("{:02x}", c) : fmt::format("{:02X}", c);
        } else {
          s = bad();
        }
        break;
      case 'c':
        if (a.is_number_integer()) {
          int64_t cp = a.get<int64_t>();
          if (cp < 0x80)
            s = std::string(1, static_cast<char>(cp));
          else
            s = "\xEF\xBF\xBD";
        } else {
          s = bad();
        }
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'g': {
        if (!a.is_number()) {
          s = bad();
          break;
        }
        double d = a.get<double>();
        char buf[512];
        std::string spec = "%";
        if (plus)
          spec += '+';
        else if (space)
          spec += ' ';
        if (sharp) spec += '#';
        if (prec >= 0)
          spec += "." + std::to_string(prec);
        else if (verb == 'f' || verb == 'F' || verb == 'e')
          spec += ".6";
        spec += verb == 'F' ? 'f' : verb;
        if (verb == 'g' && prec < 0) {
          s = go_float(d);
        } else {
          std::snprintf(buf, sizeof buf, spec.c_str(), d);
          s = buf;
        }
        break;
      }
      default:
        s = fmt::format("%!{}({})", verb, go_print(a));
    }
    out += pad(s, width, minus, zero && verb != 's' && verb != 'v' && verb != 'q');
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = argi; k < args.size(); ++k) {
      if (k > argi) out += ", ";
      const OrderedJson& a = args[k];
      std::string tn = a.is_string()         ? "string"
                       : a.is_boolean()      ? "bool"
                       : a.is_number_float() ? "float64"
                       : a.is_number()       ? "int"
                                             : "interface {}";
      out += tn + "=" + go_print(a);
    }
    out += ")";
  }
  return out;
}

}  // namespace berth::cli
