#include "api/types/events.h"

namespace berth::api {

OrderedJson encode_event(const EventMessage& e, ApiVersion) {
  OrderedJson j = OrderedJson::object();
  if (e.type == "container" || e.type == "image") {
    j["status"] = e.action;
    j["id"] = e.actor_id;
    if (e.type == "container")
      if (auto it = e.attributes.find("image"); it != e.attributes.end()) j["from"] = it->second;
  }
  j["Type"] = e.type;
  j["Action"] = e.action;
  OrderedJson attrs = OrderedJson::object();
  for (const auto& [k, v] : e.attributes) attrs[k] = v;
  j["Actor"] = {{"ID", e.actor_id}, {"Attributes", attrs}};
  j["scope"] = e.scope;
  j["time"] = e.time_ns / 1000000000;
  j["timeNano"] = e.time_ns;
  return j;
}

}  // namespace berth::api
