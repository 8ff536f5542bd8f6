#include "base/json.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace berth {
namespace {

// Wraps nlohmann's DOM builder and keeps the parse error instead of throwing.
// With `keep`, the members of each element of the top-level array whose keys
// are not in it are not passed on: from such a key to the end of its value
// every event is dropped (nesting counted in skip_).
template <typename J>
class CapturingSax : public nlohmann::detail::json_sax_dom_parser<J> {
  using Base = nlohmann::detail::json_sax_dom_parser<J>;

 public:
  using typename Base::binary_t;
  using typename Base::number_float_t;
  using typename Base::number_integer_t;
  using typename Base::number_unsigned_t;
  using typename Base::string_t;

  CapturingSax(J& j, const std::set<std::string>* keep)
      : Base(j, /*allow_exceptions=*/false), keep_(keep) {}

  bool null() { return skipping_scalar() || Base::null(); }
  bool boolean(bool v) { return skipping_scalar() || Base::boolean(v); }
  bool number_integer(number_integer_t v) { return skipping_scalar() || Base::number_integer(v); }
  bool number_unsigned(number_unsigned_t v) {
    return skipping_scalar() || Base::number_unsigned(v);
  }
  bool number_float(number_float_t v, const string_t& s) {
    return skipping_scalar() || Base::number_float(v, s);
  }
  bool string(string_t& v) { return skipping_scalar() || Base::string(v); }
  bool binary(binary_t& v) { return skipping_scalar() || Base::binary(v); }
  bool start_object(std::size_t n) {
    if (skip_) return ++skip_, true;
    ++depth_;
    return Base::start_object(n);
  }
  bool end_object() {
    if (skip_) return end_skipped();
    --depth_;
    return Base::end_object();
  }
  bool start_array(std::size_t n) {
    if (skip_) return ++skip_, true;
    ++depth_;
    return Base::start_array(n);
  }
  bool end_array() {
    if (skip_) return end_skipped();
    --depth_;
    return Base::end_array();
  }
  bool key(string_t& k) {
    if (skip_) return true;
    // depth 2: a member of an element of the top-level array.
    if (keep_ && depth_ == 2 && !keep_->count(k)) {
      skip_ = 1;
      return true;
    }
    return Base::key(k);
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    message = ex.what();
    failed = true;
    return false;
  }
  std::string message;
  bool failed = false;

 private:
  // A scalar while skipping: it ends the skipped value when it is the value.
  bool skipping_scalar() {
    if (!skip_) return false;
    if (skip_ == 1) skip_ = 0;
    return true;
  }
  bool end_skipped() {
    // skip_ 1 is the key's own level; its container closes at 2.
    if (--skip_ == 1) skip_ = 0;
    return true;
  }

  const std::set<std::string>* keep_;
  int depth_ = 0;
  int skip_ = 0;  // 0: passing events on; 1: after a dropped key; >1: inside its value
};

template <typename J>
Result<J> parse_with(std::string_view text, std::string_view what,
                     const std::set<std::string>* keep) {
  J j;
  CapturingSax<J> sax(j, keep);
  bool ok = J::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  if (!ok || sax.failed) {
    std::string msg = sax.message;
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at ..."
    if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
    return make_error(Errc::InvalidArgument, "{}: invalid JSON: {}", what,
                      msg.empty() ? "malformed document" : msg);
  }
  return j;
}

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what) {
  return parse_with<Json>(text, what, nullptr);
}

Result<OrderedJson> parse_ordered_json(std::string_view text, std::string_view what) {
  return parse_with<OrderedJson>(text, what, nullptr);
}

Result<Json> parse_json_rows(std::string_view text, std::string_view what,
                             const std::set<std::string>& keep) {
  return parse_with<Json>(text, what, &keep);
}

void sort_members(OrderedJson& o) {
  if (!o.is_object()) return;
  std::vector<std::pair<std::string, OrderedJson>> members;
  members.reserve(o.size());
  for (auto& [k, v] : o.items()) members.emplace_back(k, std::move(v));
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  o = OrderedJson::object();
  for (auto& [k, v] : members) o[k] = std::move(v);
}

OrderedJson members_in_order(const Json& o, std::initializer_list<std::string_view> order) {
  if (!o.is_object()) return o;
  OrderedJson out = OrderedJson::object();
  for (std::string_view k : order)
    if (auto it = o.find(k); it != o.end()) out[std::string(k)] = *it;
  for (const auto& [k, v] : o.items())
    if (!out.contains(k)) out[k] = v;
  return out;
}

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace berth
