// http/url.h — percent-decoding of request targets (internal to http, used by
// the server and its tests). No Beast here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::http {

// Decodes %XX escapes; with `plus_is_space` ('+' -> ' ') as in query
// strings. nullopt on a malformed escape ("%", "%4", "%zz").
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// Go's url.ParseQuery as docker uses it: pairs split on '&', key and value
// split on the first '=', both decoded with '+' as space; empty pairs and
// pairs with a malformed escape are skipped; order and repeats kept.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q);

// Splits a request target into its decoded path and its query string.
// Absolute-form targets ("http://host/p?q") are reduced to origin form.
// nullopt when the path has a malformed escape (the server answers 400).
struct SplitTarget {
  std::string path;
  std::string raw_query;
};
std::optional<SplitTarget> split_target(std::string_view target);

}  // namespace berth::http
