// base/strings.h — small string helpers shared by every module.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth {

std::vector<std::string> split(std::string_view s, char sep, bool skip_empty = false);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
// Go's strconv.Quote for ASCII text (docker quotes user input that way in
// its messages, which clients show verbatim): "a\"b", control bytes as \xNN.
std::string go_quote(std::string_view s);
// Go's path.Clean of an absolute path: "/a/./b/../c/" -> "/a/c"; ".." stops at "/"
// (a relative input is taken from "/").
std::string clean_abs_path(std::string_view p);
// The same for a relative path ("./a/../b" -> "b", "." -> ""); nullopt when it climbs
// above its start ("../x", "a/../../x").
std::optional<std::string> clean_rel_path(std::string_view p);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Parses a base-10 integer; nullopt when s is not entirely a number in range.
std::optional<long long> parse_int(std::string_view s);
std::optional<unsigned long long> parse_uint(std::string_view s);

}  // namespace berth
