#include "base/json.h"

namespace berth {
namespace {

// Wraps nlohmann's DOM builder and keeps the parse error instead of throwing.
class CapturingSax : public nlohmann::detail::json_sax_dom_parser<Json> {
 public:
  explicit CapturingSax(Json& j) : json_sax_dom_parser(j, /*allow_exceptions=*/false) {}
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    message = ex.what();
    failed = true;
    return false;
  }
  std::string message;
  bool failed = false;
};

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what) {
  Json j;
  CapturingSax sax(j);
  bool ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
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

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace berth
