// base/json.h — exception-free JSON parsing on nlohmann::json.
// parse_json never throws: syntax errors come back as InvalidArgument with
// nlohmann's position text ("syntax error at line 3, column 5: ...").
#pragma once

#include <concepts>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

using Json = nlohmann::json;
// Keeps members in insertion order: what the Engine API writes, so answers
// list fields in docker's order (its Go structs' field order), not sorted.
using OrderedJson = nlohmann::ordered_json;

// `what` names the document in the error ("config.json").
Result<Json> parse_json(std::string_view text, std::string_view what);

// parse_json keeping the members in the document's order (a daemon's answer
// read for a template's `json`, which marshals docker's structs in field order).
Result<OrderedJson> parse_ordered_json(std::string_view text, std::string_view what);

// parse_json for an array of objects (an API list) that keeps, in each
// element, only the members named in `keep`; the others are read past, never
// built. Errors as parse_json's.
Result<Json> parse_json_rows(std::string_view text, std::string_view what,
                             const std::set<std::string>& keep);

// Serialises without throwing: invalid UTF-8 is replaced, not an exception.
std::string dump_json(const Json& j, int indent = -1);
// Sorts an OrderedJson object's members by key (a no-op for other values):
// for members that are maps in docker's Go types, which encoding/json writes
// sorted, when they are filled from an unsorted source.
void sort_members(OrderedJson& o);

// `o`'s members as an OrderedJson object: those named in `order` first, in
// that order (absent ones skipped), then the rest, sorted. Puts a document
// that was parsed or stored sorted into a Go struct's field order. A
// non-object comes back as is.
OrderedJson members_in_order(const Json& o, std::initializer_list<std::string_view> order);

// The same for OrderedJson (members in insertion order). A template so that a
// braced list, dump_json({{"k", v}}), still means Json.
template <typename J>
requires std::same_as<J, OrderedJson> std::string dump_json(const J& j, int indent = -1) {
  return j.dump(indent, ' ', false, OrderedJson::error_handler_t::replace);
}

}  // namespace berth
