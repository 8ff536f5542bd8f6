// api/types/events.h — GET /events messages in docker's JSON spelling.
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "api/types/version.h"
#include "base/json.h"

namespace berth::api {

struct EventMessage {
  std::string type;    // "image", "container", "volume", "network", "daemon"
  std::string action;  // "pull", "tag", "delete", ...
  std::string actor_id;
  std::map<std::string, std::string> attributes;
  std::string scope = "local";
  int64_t time_ns = 0;
};

// {"Type","Action","Actor":{"ID","Attributes"},"scope","time","timeNano"} and
// the pre-1.22 fields every docker daemon still sends: "status" (= action),
// "id" (= actor id) and, for container events, "from" (= the image).
OrderedJson encode_event(const EventMessage& e, ApiVersion v);

}  // namespace berth::api
