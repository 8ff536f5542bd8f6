// base/json.h — exception-free JSON parsing on nlohmann::json.
// parse_json never throws: syntax errors come back as InvalidArgument with
// nlohmann's position text ("syntax error at line 3, column 5: ...").
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

using Json = nlohmann::json;

// `what` names the document in the error ("config.json").
Result<Json> parse_json(std::string_view text, std::string_view what);

// parse_json for an array of objects (an API list) that keeps, in each
// element, only the members named in `keep`; the others are read past, never
// built. Errors as parse_json's.
Result<Json> parse_json_rows(std::string_view text, std::string_view what,
                             const std::set<std::string>& keep);

// Serialises without throwing: invalid UTF-8 is replaced, not an exception.
std::string dump_json(const Json& j, int indent = -1);

}  // namespace berth
