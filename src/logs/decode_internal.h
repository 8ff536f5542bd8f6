// logs/decode_internal.h — decoding one json-file line into an Entry.
// Internal to the logs module (the reader and the tests use it).
#pragma once

#include <string_view>

#include "base/json.h"
#include "logs/json_file.h"

namespace berth::logs {

// Decodes `line` (one JSON object, without its '\n') into `e`, reusing e's
// buffer. Lines in the exact shape the writer produces take a fast path
// (common escapes decoded in place); anything else — other key orders,
// "attrs", surrogate pairs — goes through nlohmann. false = corrupt line.
bool decode_line(std::string_view line, Entry& e);

// The same with the fast path disabled (tests compare both).
bool decode_line_slow(std::string_view line, Entry& e);

// An "attrs" object as Entry::attrs ("k=v,k2=v2", sorted, query-escaped).
std::string details_prefix(const Json& attrs);

}  // namespace berth::logs
