// Image routes: /images/... (pull, import, list, inspect, history, tag,
// delete, push, search, save, load, prune).
#include <fnmatch.h>

#include <algorithm>
#include <cctype>

#include "api/server/context.h"
#include "api/server/stream.h"
#include "api/types/auth.h"
#include "api/types/images.h"
#include "api/types/progress.h"
#include "api/types/time.h"
#include "base/strings.h"

namespace berth::api::server {
namespace {

Result<engine::Credentials> credentials(const Ctx& c) {
  auto h = c.req.header("X-Registry-Auth");
  if (!h) return engine::Credentials{};
  auto a = BERTH_TRY(decode_registry_auth(*h));
  return engine::Credentials{a.username, a.password, a.identity_token};
}

ImageSummary to_wire(const engine::ImageSummary& s) {
  ImageSummary w;
  w.id = s.id.str();
  w.repo_tags = s.repo_tags;
  w.repo_digests = s.repo_digests;
  w.created = s.created;
  w.size = s.size;
  w.labels = s.labels;
  w.containers = s.containers;
  return w;
}

std::string progress_line(const engine::ProgressEvent& p) {
  if (!p.aux.is_null())
    return dump_json(Json{{"progressDetail", Json::object()}, {"aux", p.aux}}) + "\n";
  return encode_progress_line({p.id, p.status, p.current, p.total});
}

engine::ProgressFn progress_to(JsonStream& out) {
  return [&out](const engine::ProgressEvent& p) {
    [[maybe_unused]] auto r = out.write(progress_line(p));
  };
}

// A ByteSource over the request body.
engine::ByteSource body_source(Ctx& c) {
  return [&c]() { return c.req.read_body(); };
}

// Docker's tag grammar [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, checked here so a
// bad tag is a 400 before any progress stream starts.
bool tag_syntax_ok(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; };
  if (!word(t[0])) return false;
  for (char ch : t)
    if (!word(ch) && ch != '.' && ch != '-') return false;
  return true;
}

std::optional<engine::Platform> platform_or_error(Ctx& c, Result<void>& err) {
  auto p = str_param(c, "platform");
  if (p.empty()) return std::nullopt;
  auto parsed = engine::Platform::parse(p);
  if (!parsed) {
    err = make_error(Errc::InvalidArgument, "invalid value for parameter platform: {}",
                     parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

}  // namespace

void images_create(Ctx& c) {
  std::string from_image = str_param(c, "fromImage");
  std::string from_src = str_param(c, "fromSrc");
  std::string tag = str_param(c, "tag");
  Result<void> perr;
  auto platform = platform_or_error(c, perr);
  if (!perr) return send_error(c, perr.error());
  if (!from_image.empty() && !from_src.empty())
    return send_error(
        c, make_error(Errc::InvalidArgument, "fromImage and fromSrc cannot be used together"));
  if (from_image.empty() && from_src.empty())
    return send_error(c, make_error(Errc::InvalidArgument,
                                    "missing parameter: fromImage or fromSrc is required"));
  if (!from_image.empty()) {
    auto cred = credentials(c);
    if (!cred) return send_error(c, cred.error());
    if (!tag.empty() && !starts_with(tag, "sha256:") && !tag_syntax_ok(tag))
      return send_error(
          c, make_error(Errc::InvalidArgument,
                        "invalid value for parameter tag: invalid tag format: \"{}\"", tag));
    engine::PullRequest req;
    req.reference = from_image;
    if (!tag.empty())
      req.reference += (starts_with(tag, "sha256:") ? "@" : ":") + tag;
    else if (from_image.find('@') == std::string::npos) {
      // docker pull without a tag pulls :latest; the CLI sends tag=latest, but
      // fromImage=x alone (docker-py pull(all_tags)) means every tag.
      auto last = from_image.substr(
          from_image.rfind('/') == std::string::npos ? 0 : from_image.rfind('/') + 1);
      if (last.find(':') == std::string::npos) req.all_tags = true;
    }
    req.platform = platform;
    req.credentials = *cred;
    JsonStream out(c);
    req.cancel = out.cancel_flag();
    auto r = c.engine.images().pull(req, progress_to(out));
    if (!r) return out.finish(r.error());
    return out.finish(ok());
  }
  if (from_src != "-")
    return send_error(c, make_error(Errc::NotImplemented,
                                    "importing from a URL is not supported (fromSrc={}); send the "
                                    "tarball as the request body with fromSrc=-",
                                    from_src));
  engine::ImportRequest req;
  req.repository = str_param(c, "repo");
  req.tag = tag.empty() ? (req.repository.empty() ? "" : "latest") : tag;
  req.changes = all_params(c, "changes");
  req.message = str_param(c, "message");
  req.platform = platform;
  JsonStream out(c);
  bool id_reported = false;  // docker prints the new id once; the service may report it
  auto id = c.engine.images().import(req, body_source(c), [&](const engine::ProgressEvent& p) {
    if (starts_with(p.status, "sha256:")) id_reported = true;
    [[maybe_unused]] auto r = out.write(progress_line(p));
  });
  if (!id) return out.finish(id.error());
  if (!id_reported) [[maybe_unused]]
    auto w = out.write(encode_progress_line({"", id->str(), -1, -1}));
  out.finish(ok());
}

void images_list(Ctx& c) {
  auto all = bool_param(c, "all");
  if (!all) return send_error(c, all.error());
  auto digests = bool_param(c, "digests");
  if (!digests) return send_error(c, digests.error());
  auto shared = bool_param(c, "shared-size");
  if (!shared) return send_error(c, shared.error());
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  if (auto v = f->validate({"before", "dangling", "label", "reference", "since", "until"}); !v)
    return send_error(c, v.error());
  engine::ListFilters lf;
  lf.all = *all;
  auto dangling = f->get_bool("dangling");
  if (!dangling) return send_error(c, dangling.error());
  lf.dangling = *dangling;
  lf.references = f->get("reference");
  // API < 1.25 clients send the reference as `filter=`.
  if (auto legacy = c.req.param("filter"); legacy && !legacy->empty())
    lf.references.push_back(*legacy);
  lf.labels = f->get("label");
  auto before = f->get("before");
  auto since = f->get("since");
  if (before.size() > 1 || since.size() > 1)
    return send_error(
        c, make_error(Errc::InvalidArgument, "invalid filter: before and since take one image"));
  if (!before.empty()) lf.before = before[0];
  if (!since.empty()) lf.since = since[0];
  std::optional<int64_t> until_s;
  if (auto u = f->get("until"); !u.empty()) {
    auto t = parse_timestamp(u[0], now_unix_ns(), "filters.until");
    if (!t) return send_error(c, t.error());
    until_s = *t / 1000000000;
  }
  auto rows = c.engine.images().list(lf);
  if (!rows) return send_error(c, rows.error());
  // shared-size=1: the bytes of layers each image shares with another one.
  std::map<std::string, int64_t> shared_sizes;
  if (*shared) {
    auto du = c.engine.images().disk_usage();
    if (!du) return send_error(c, du.error());
    shared_sizes = std::move(du->shared_size);
  }
  OrderedJson a = OrderedJson::array();
  for (const auto& s : *rows) {
    if (until_s && s.created >= *until_s) continue;
    auto w = to_wire(s);
    if (*shared) w.shared_size = shared_sizes.count(w.id) ? shared_sizes[w.id] : 0;
    a.push_back(encode_image_summary(w, c.version));
  }
  send_json(c, 200, a);
}

void images_inspect(Ctx& c) {
  auto d = c.engine.images().inspect(c.name);
  if (!d) return send_error(c, d.error());
  ImageInspect w;
  w.id = d->summary.id.str();
  w.repo_tags = d->summary.repo_tags;
  w.repo_digests = d->summary.repo_digests;
  const Json& cfg = d->config;
  auto str = [&](const char* k) {
    return cfg.is_object() && cfg.contains(k) && cfg[k].is_string() ? cfg[k].get<std::string>()
                                                                    : std::string();
  };
  w.comment = str("comment");
  w.parent = str("parent");  // set by commit, as docker's
  w.created = str("created");
  if (w.created.empty()) w.created = format_rfc3339_nano(d->summary.created * 1000000000);
  w.container = str("container");
  if (cfg.is_object() && cfg.contains("container_config"))
    w.container_config = cfg["container_config"];
  w.docker_version = str("docker_version");
  w.author = str("author");
  if (cfg.is_object() && cfg.contains("config")) w.config = cfg["config"];
  w.architecture = d->architecture;
  w.variant = d->variant;
  w.os = d->os;
  w.os_version = str("os.version");
  w.size = d->summary.size;
  w.graph_driver = c.engine.images().storage_driver();
  for (const auto& l : d->diff_ids) w.layers.push_back(l.str());
  w.last_tag_time_ns = d->added_ns;
  send_json(c, 200, encode_image_inspect(w, c.version));
}

void images_history(Ctx& c) {
  auto h = c.engine.images().history(c.name);
  if (!h) return send_error(c, h.error());
  std::vector<HistoryItem> items;
  for (const auto& e : *h)
    items.push_back({e.id, e.created, e.created_by, e.tags, e.size, e.comment});
  send_json(c, 200, encode_history(items));
}

void images_tag(Ctx& c) {
  std::string repo = str_param(c, "repo");
  std::string tag = str_param(c, "tag");
  if (repo.empty())
    return send_error(c, make_error(Errc::InvalidArgument, "missing parameter: repo"));
  auto r = c.engine.images().tag(c.name, repo, tag.empty() ? "latest" : tag);
  if (!r) return send_error(c, r.error());
  send_status(c, 201);
}

void images_delete(Ctx& c) {
  auto force = bool_param(c, "force");
  if (!force) return send_error(c, force.error());
  auto noprune = bool_param(c, "noprune");
  if (!noprune) return send_error(c, noprune.error());
  auto r = c.engine.images().remove(c.name, *force, *noprune);
  if (!r) return send_error(c, r.error());
  std::vector<DeleteItem> items;
  for (const auto& d : *r) items.push_back({d.untagged, d.deleted});
  send_json(c, 200, encode_delete_items(items));
}

void images_push(Ctx& c) {
  auto cred = credentials(c);
  if (!cred) return send_error(c, cred.error());
  engine::PushRequest req;
  req.reference = c.name;
  if (auto t = str_param(c, "tag"); !t.empty()) req.reference += ":" + t;
  req.credentials = *cred;
  JsonStream out(c);
  req.cancel = out.cancel_flag();
  auto r = c.engine.images().push(req, progress_to(out));
  out.finish(r);
}

// GET /distribution/{name}/json (docker-py's get_registry_data, `docker
// service create`'s digest pinning): the registry's manifest descriptor and
// platforms, fields as the OCI spec spells them.
void distribution_inspect(Ctx& c) {
  auto cred = credentials(c);
  if (!cred) return send_error(c, cred.error());
  auto info = c.engine.images().distribution_inspect(c.name, *cred);
  if (!info) return send_error(c, info.error());
  Json platforms = Json::array();
  for (const auto& p : info->platforms) {
    Json j{{"architecture", p.architecture}, {"os", p.os}};
    if (!p.os_version.empty()) j["os.version"] = p.os_version;
    if (!p.os_features.empty()) j["os.features"] = p.os_features;
    if (!p.variant.empty()) j["variant"] = p.variant;
    platforms.push_back(std::move(j));
  }
  const auto& d = info->descriptor;
  send_json(c, 200,
            Json{{"Descriptor",
                  {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}}},
                 {"Platforms", platforms}});
}

void images_search(Ctx& c) {
  std::string term = str_param(c, "term");
  if (term.empty())
    return send_error(c, make_error(Errc::InvalidArgument, "missing parameter: term"));
  auto limit = int_param(c, "limit");
  if (!limit) return send_error(c, limit.error());
  auto list_tags = bool_param(c, "list-tags");
  if (!list_tags) return send_error(c, list_tags.error());
  auto cred = credentials(c);
  if (!cred) return send_error(c, cred.error());
  if (*list_tags) {
    auto tags = c.engine.images().list_tags(term, *cred);
    if (!tags) return send_error(c, tags.error());
    return send_json(c, 200, Json(*tags));
  }
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  if (auto v = f->validate({"is-official", "is-automated", "stars"}); !v)
    return send_error(c, v.error());
  auto official = f->get_bool("is-official");
  if (!official) return send_error(c, official.error());
  auto automated = f->get_bool("is-automated");
  if (!automated) return send_error(c, automated.error());
  long long min_stars = 0;
  for (const auto& s : f->get("stars")) {
    auto n = parse_int(s);
    if (!n) return send_error(c, make_error(Errc::InvalidArgument, "invalid filter 'stars={}'", s));
    min_stars = std::max(min_stars, *n);
  }
  int lim = limit->value_or(25);
  if (lim < 1 || lim > 100)
    return send_error(
        c, make_error(Errc::InvalidArgument, "limit {} is outside the range of [1, 100]", lim));
  auto rows = c.engine.images().search(term, lim, *cred);
  if (!rows) return send_error(c, rows.error());
  std::vector<SearchResult> out;
  for (const auto& r : *rows) {
    if (*official && r.is_official != **official) continue;
    if (*automated && r.is_automated != **automated) continue;
    if (r.star_count < min_stars) continue;
    out.push_back({r.name, r.description, r.star_count, r.is_official, r.is_automated});
  }
  send_json(c, 200, encode_search_results(out));
}

void images_get(Ctx& c) {
  std::vector<std::string> names;
  if (!c.name.empty()) names.push_back(c.name);
  for (const auto& n : all_params(c, "names"))
    if (!n.empty()) names.push_back(n);
  if (names.empty())
    return send_error(c, make_error(Errc::InvalidArgument, "missing parameter: names"));
  JsonStream out(c, "application/x-tar");
  auto r = c.engine.images().save(names, [&out](std::string_view b) { return out.write(b); });
  if (!r && out.started()) {
    // A tar cannot carry an error line: cut the stream so the client sees a
    // truncated archive rather than a valid-looking one.
    return;
  }
  out.finish(r);
}

void images_load(Ctx& c) {
  auto quiet = bool_param(c, "quiet");
  if (!quiet) return send_error(c, quiet.error());
  JsonStream out(c);
  bool reported = false;
  auto progress = [&](const engine::ProgressEvent& p) {
    if (starts_with(p.status, "Loaded image")) {
      reported = true;
      [[maybe_unused]] auto r = out.write(encode_stream_line(p.status + "\n"));
    } else if (!*quiet) {
      [[maybe_unused]] auto r = out.write(progress_line(p));
    }
  };
  auto r = c.engine.images().load(body_source(c), progress);
  if (!r) return out.finish(r.error());
  if (!reported)
    for (const auto& s : *r) {
      std::string line = starts_with(s, "Loaded image") ? s
                         : starts_with(s, "sha256:")    ? "Loaded image ID: " + s
                                                        : "Loaded image: " + s;
      [[maybe_unused]] auto w = out.write(encode_stream_line(line + "\n"));
    }
  out.finish(ok());
}

void images_prune(Ctx& c) {
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  if (auto v = f->validate({"dangling", "until", "label"}); !v) return send_error(c, v.error());
  auto dangling = f->get_bool("dangling");
  if (!dangling) return send_error(c, dangling.error());
  bool all = dangling->has_value() && !**dangling;
  std::optional<int64_t> until;
  if (auto u = f->get("until"); !u.empty()) {
    auto t = parse_timestamp(u[0], now_unix_ns(), "filters.until");
    if (!t) return send_error(c, t.error());
    until = *t / 1000000000;
  }
  auto r = c.engine.images().prune(all, f->get("label"), until);
  if (!r) return send_error(c, r.error());
  std::vector<DeleteItem> items;
  for (const auto& d : r->deleted) items.push_back({d.untagged, d.deleted});
  send_json(c, 200, encode_prune_report(items, r->space_reclaimed));
}

}  // namespace berth::api::server
