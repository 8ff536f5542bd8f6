#include "api/types/volumes.h"

#include <fmt/format.h>

#include <ctime>

namespace berth::api {

namespace {

OrderedJson string_map(const std::map<std::string, std::string>& m) {
  OrderedJson j = OrderedJson::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

Result<void> read_string(const Json& o, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_string()) {
    return make_error(Errc::InvalidArgument,
                      "invalid JSON: json: cannot unmarshal {} into Go struct field "
                      "CreateOptions.{} of type string",
                      it->type_name(), key);
  }
  out = it->get<std::string>();
  return {};
}

Result<void> read_map(const Json& o, const char* key, std::map<std::string, std::string>& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  auto bad = [&](const Json& v) {
    return make_error(Errc::InvalidArgument,
                      "invalid JSON: json: cannot unmarshal {} into Go struct field "
                      "CreateOptions.{} of type map[string]string",
                      v.type_name(), key);
  };
  if (!it->is_object()) return bad(*it);
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e->is_string()) return bad(*e);
    out[e.key()] = e->get<std::string>();
  }
  return {};
}

}  // namespace

std::string format_rfc3339_seconds(int64_t unix_ns) {
  time_t t = static_cast<time_t>(unix_ns / 1'000'000'000);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

OrderedJson encode_volume(const VolumeWire& v) {
  OrderedJson j = OrderedJson::object();
  j["CreatedAt"] = format_rfc3339_seconds(v.created_ns);
  j["Driver"] = v.driver;
  j["Labels"] = string_map(v.labels);
  j["Mountpoint"] = v.mountpoint;
  j["Name"] = v.name;
  j["Options"] = string_map(v.options);
  j["Scope"] = v.scope;
  if (v.usage) j["UsageData"] = {{"RefCount", v.ref_count}, {"Size", v.size}};
  return j;
}

OrderedJson encode_volume_list(const std::vector<VolumeWire>& vs) {
  OrderedJson list = OrderedJson::array();
  for (const auto& v : vs) list.push_back(encode_volume(v));
  return OrderedJson{{"Volumes", list}, {"Warnings", OrderedJson::array()}};
}

OrderedJson encode_volume_prune(const std::vector<std::string>& deleted, int64_t reclaimed) {
  // A Go nil slice when nothing went, as docker's prune reports.
  return OrderedJson{{"VolumesDeleted", deleted.empty() ? OrderedJson() : OrderedJson(deleted)},
                     {"SpaceReclaimed", reclaimed}};
}

Result<VolumeCreateBody> decode_volume_create(std::string_view body) {
  VolumeCreateBody b;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return b;
  Json j = BERTH_TRY(parse_json(body, "volume create body"));
  if (!j.is_object()) {
    return make_error(Errc::InvalidArgument,
                      "invalid JSON: json: cannot unmarshal {} into Go value of type "
                      "volume.CreateOptions",
                      j.type_name());
  }
  BERTH_TRY(read_string(j, "Name", b.name));
  BERTH_TRY(read_string(j, "Driver", b.driver));
  BERTH_TRY(read_map(j, "DriverOpts", b.driver_opts));
  BERTH_TRY(read_map(j, "Labels", b.labels));
  return b;
}

}  // namespace berth::api
