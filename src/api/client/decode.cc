#include <fmt/format.h>

#include "api/client/types.h"
#include "base/strings.h"

namespace berth::api::client {
namespace {

// Typed field readers that never throw; a wrong type is an error naming
// `what.field`, a missing or null field keeps the default.
struct Reader {
  const Json& j;
  std::string what;
  Error* err;

  const Json* get(const char* f) const {
    if (!j.is_object()) return nullptr;
    auto it = j.find(f);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void fail(const char* f, const char* type) const {
    if (err->message.empty())
      *err = make_error(Errc::InvalidArgument, "{}: field {} is not {}", what, f, type);
  }
  void str(const char* f, std::string& out) const {
    if (auto* v = get(f)) {
      if (v->is_string())
        out = v->get<std::string>();
      else
        fail(f, "a string");
    }
  }
  void i64(const char* f, int64_t& out) const {
    if (auto* v = get(f)) {
      if (v->is_number_integer())
        out = v->get<int64_t>();
      else if (v->is_number_float())
        out = static_cast<int64_t>(v->get<double>());
      else
        fail(f, "a number");
    }
  }
  void boolean(const char* f, bool& out) const {
    if (auto* v = get(f)) {
      if (v->is_boolean())
        out = v->get<bool>();
      else
        fail(f, "a boolean");
    }
  }
  void strings(const char* f, std::vector<std::string>& out) const {
    if (auto* v = get(f)) {
      if (!v->is_array()) return fail(f, "an array");
      for (auto& e : *v) {
        if (!e.is_string()) return fail(f, "an array of strings");
        out.push_back(e.get<std::string>());
      }
    }
  }
  void string_map(const char* f, std::map<std::string, std::string>& out) const {
    if (auto* v = get(f)) {
      if (!v->is_object()) return fail(f, "an object");
      for (auto it = v->begin(); it != v->end(); ++it)
        if (it->is_string()) out[it.key()] = it->get<std::string>();
    }
  }
};

Result<Json> parse_array(std::string_view body, std::string_view what) {
  Json j = BERTH_TRY(parse_json(body, what));
  if (j.is_null()) return Json::array();
  if (!j.is_array()) return make_error(Errc::InvalidArgument, "{}: expected a JSON array", what);
  return j;
}

}  // namespace

Result<ImageSummary> decode_image_summary(const Json& j) {
  Error err;
  Reader r{j, "image list entry", &err};
  ImageSummary s;
  r.str("Id", s.id);
  r.str("ParentId", s.parent_id);
  r.strings("RepoTags", s.repo_tags);
  r.strings("RepoDigests", s.repo_digests);
  r.i64("Created", s.created);
  r.i64("Size", s.size);
  r.i64("SharedSize", s.shared_size);
  r.i64("VirtualSize", s.virtual_size);
  r.i64("Containers", s.containers);
  r.string_map("Labels", s.labels);
  if (!err.message.empty()) return err;
  // Daemons before API 1.44 list untagged images as "<none>:<none>".
  std::erase(s.repo_tags, std::string("<none>:<none>"));
  std::erase(s.repo_digests, std::string("<none>@<none>"));
  return s;
}

Result<std::vector<ImageSummary>> decode_image_list(std::string_view body) {
  Json arr = BERTH_TRY(parse_array(body, "image list"));
  std::vector<ImageSummary> out;
  for (const Json& e : arr) out.push_back(BERTH_TRY(decode_image_summary(e)));
  return out;
}

Result<std::vector<HistoryItem>> decode_history(std::string_view body) {
  Json arr = BERTH_TRY(parse_array(body, "image history"));
  std::vector<HistoryItem> out;
  Error err;
  for (const Json& e : arr) {
    Reader r{e, "image history entry", &err};
    HistoryItem h;
    r.str("Id", h.id);
    r.i64("Created", h.created);
    r.str("CreatedBy", h.created_by);
    r.strings("Tags", h.tags);
    r.i64("Size", h.size);
    r.str("Comment", h.comment);
    out.push_back(std::move(h));
  }
  if (!err.message.empty()) return err;
  return out;
}

Result<std::vector<SearchResult>> decode_search(std::string_view body) {
  Json arr = BERTH_TRY(parse_array(body, "search results"));
  std::vector<SearchResult> out;
  Error err;
  for (const Json& e : arr) {
    Reader r{e, "search result", &err};
    SearchResult s;
    r.str("name", s.name);
    r.str("description", s.description);
    r.i64("star_count", s.star_count);
    r.boolean("is_official", s.is_official);
    r.boolean("is_automated", s.is_automated);
    out.push_back(std::move(s));
  }
  if (!err.message.empty()) return err;
  return out;
}

Result<std::vector<std::string>> decode_tag_list(std::string_view body) {
  Json j = BERTH_TRY(parse_json(body, "tag list"));
  if (j.is_object()) {
    auto it = j.find("tags");
    if (it == j.end()) it = j.find("Tags");
    if (it == j.end()) return make_error(Errc::InvalidArgument, "tag list: no \"tags\" field");
    j = *it;
  }
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return make_error(Errc::InvalidArgument, "tag list: expected a JSON array");
  for (const Json& e : j) {
    if (e.is_string()) {
      out.push_back(e.get<std::string>());
      continue;
    }
    bool found = false;
    for (const char* k : {"Tag", "tag", "Name", "name"}) {
      if (e.is_object() && e.contains(k) && e[k].is_string()) {
        out.push_back(e[k].get<std::string>());
        found = true;
        break;
      }
    }
    if (!found) return make_error(Errc::InvalidArgument, "tag list: entry is not a tag name");
  }
  return out;
}

Result<std::vector<DeleteItem>> decode_delete_items(const Json& j) {
  std::vector<DeleteItem> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return make_error(Errc::InvalidArgument, "image delete: expected an array");
  Error err;
  for (const Json& e : j) {
    Reader r{e, "image delete entry", &err};
    DeleteItem d;
    r.str("Untagged", d.untagged);
    r.str("Deleted", d.deleted);
    out.push_back(std::move(d));
  }
  if (!err.message.empty()) return err;
  return out;
}

Result<PruneReport> decode_prune_report(std::string_view body) {
  Json j = BERTH_TRY(parse_json(body, "prune report"));
  PruneReport p;
  if (j.is_object() && j.contains("ImagesDeleted"))
    p.deleted = BERTH_TRY(decode_delete_items(j["ImagesDeleted"]));
  Error err;
  Reader{j, "prune report", &err}.i64("SpaceReclaimed", p.space_reclaimed);
  if (!err.message.empty()) return err;
  return p;
}

Result<DiskUsage> decode_disk_usage(std::string_view body) {
  Json j = BERTH_TRY(parse_json(body, "disk usage"));
  DiskUsage d;
  Error err;
  Reader{j, "disk usage", &err}.i64("LayersSize", d.layers_size);
  if (!err.message.empty()) return err;
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "disk usage: expected an object");
  if (j.contains("Images") && j["Images"].is_array())
    for (const Json& e : j["Images"]) d.images.push_back(BERTH_TRY(decode_image_summary(e)));
  if (j.contains("Containers") && j["Containers"].is_array()) d.containers = j["Containers"];
  if (j.contains("Volumes") && j["Volumes"].is_array()) d.volumes = j["Volumes"];
  if (j.contains("BuildCache") && j["BuildCache"].is_array()) d.build_cache = j["BuildCache"];
  return d;
}

Result<AuthResponse> decode_auth_response(std::string_view body) {
  AuthResponse a;
  if (trim(body).empty()) return a;
  Json j = BERTH_TRY(parse_json(body, "login response"));
  Error err;
  Reader r{j, "login response", &err};
  r.str("Status", a.status);
  r.str("IdentityToken", a.identity_token);
  if (!err.message.empty()) return err;
  return a;
}

JsonMessage decode_json_message(const Json& j) {
  JsonMessage m;
  Error err;
  Reader r{j, "progress message", &err};
  r.str("id", m.id);
  r.str("status", m.status);
  r.str("stream", m.stream);
  r.str("progress", m.progress);
  r.str("from", m.from);
  r.i64("timeNano", m.time_nano);
  if (auto* pd = r.get("progressDetail"); pd && pd->is_object()) {
    m.has_progress = true;
    Reader p{*pd, "progressDetail", &err};
    p.i64("current", m.current);
    p.i64("total", m.total);
    p.i64("start", m.start);
    p.str("units", m.units);
    p.boolean("hidecounts", m.hide_counts);
  }
  if (auto* ed = r.get("errorDetail");
      ed && ed->is_object() && ed->contains("message") && (*ed)["message"].is_string()) {
    m.error = (*ed)["message"].get<std::string>();
    if (ed->contains("code") && (*ed)["code"].is_number_integer())
      m.error_code = (*ed)["code"].get<int64_t>();
  } else if (auto* e = r.get("error"); e && e->is_string()) {
    m.error = e->get<std::string>();
  }
  if (auto* aux = r.get("aux")) m.aux = *aux;
  return m;
}

Event decode_event(const Json& j) {
  Event e;
  e.raw = j;
  Error err;
  Reader r{j, "event", &err};
  r.str("Type", e.type);
  r.str("Action", e.action);
  r.str("scope", e.scope);
  r.i64("time", e.time);
  r.i64("timeNano", e.time_nano);
  if (auto* actor = r.get("Actor"); actor && actor->is_object()) {
    Reader a{*actor, "event actor", &err};
    a.str("ID", e.actor_id);
    a.string_map("Attributes", e.attributes);
  }
  // Pre-1.22 spelling, still sent by every daemon.
  if (e.action.empty()) r.str("status", e.action);
  if (e.actor_id.empty()) r.str("id", e.actor_id);
  return e;
}

std::string decode_error_message(std::string_view body) {
  auto j = parse_json(body, "error");
  if (j && j->is_object() && j->contains("message") && (*j)["message"].is_string())
    return (*j)["message"].get<std::string>();
  return std::string(trim(body));
}

}  // namespace berth::api::client
