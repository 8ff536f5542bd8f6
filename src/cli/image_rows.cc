#include "cli/image_rows.h"

#include <map>

#include "base/strings.h"
#include "cli/units.h"

namespace berth::cli {

std::string truncate_id(const std::string& id) {
  std::string s = id;
  if (auto c = s.find(':'); c != std::string::npos) s = s.substr(c + 1);
  if (s.size() > 12) s.resize(12);
  return s;
}

std::string familiar_name(const std::string& name) {
  if (starts_with(name, "docker.io/library/") && name.find('/', 18) == std::string::npos)
    return name.substr(18);
  if (starts_with(name, "docker.io/")) return name.substr(10);
  return name;
}

namespace {

// "repo:tag" -> {repo, tag}; the tag is after the last ':' following the last '/'.
std::pair<std::string, std::string> split_tag(const std::string& ref) {
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {ref, ""};
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

// docker's SharedSize/UniqueSize use go-units HumanSize (4 significant
// digits), unlike Size (3).
std::string size_or_na(int64_t v) { return v < 0 ? "N/A" : human_size(static_cast<double>(v)); }

}  // namespace

Json image_headers() {
  return Json{{"Repository", "REPOSITORY"},
              {"Tag", "TAG"},
              {"ID", "IMAGE ID"},
              {"Digest", "DIGEST"},
              {"CreatedSince", "CREATED"},
              {"CreatedAt", "CREATED AT"},
              {"Size", "SIZE"},
              {"Containers", "CONTAINERS"},
              {"VirtualSize", "SIZE"},
              {"SharedSize", "SHARED SIZE"},
              {"UniqueSize", "UNIQUE SIZE"}};
}

std::vector<Json> image_rows(const std::vector<api::client::ImageSummary>& images, bool digests,
                             bool trunc, int64_t now, const FieldSet& fields) {
  std::vector<Json> rows;
  for (const auto& img : images) {
    auto row = [&](const std::string& repo, const std::string& tag, const std::string& digest) {
      int64_t unique = (img.size < 0 || img.shared_size < 0) ? -1 : img.size - img.shared_size;
      Json r = Json::object();
      auto put = [&](const char* k, auto&& make) { put_field(r, fields, k, make); };
      put("Repository", [&] { return repo; });
      put("Tag", [&] { return tag; });
      put("Digest", [&] { return digest; });
      put("ID", [&] { return trunc ? truncate_id(img.id) : img.id; });
      put("CreatedSince", [&] { return time_ago(img.created, now); });
      put("CreatedAt", [&] { return go_time_string(img.created); });
      put("Size", [&] { return human_size(static_cast<double>(img.size), 3); });
      put("VirtualSize", [&] { return human_size(static_cast<double>(img.size)); });
      put("SharedSize", [&] { return size_or_na(img.shared_size); });
      put("UniqueSize", [&] { return size_or_na(unique); });
      put("Containers",
          [&] { return img.containers < 0 ? std::string("N/A") : std::to_string(img.containers); });
      return r;
    };
    // Sorted maps: Go iterates its maps randomly; berth prints a stable order.
    std::map<std::string, std::vector<std::string>> repo_tags, repo_digests;
    std::vector<std::string> repo_order;
    for (const auto& rt : img.repo_tags) {
      auto [repo, tag] = split_tag(rt);
      if (tag.empty()) continue;
      repo = familiar_name(repo);
      if (!repo_tags.count(repo)) repo_order.push_back(repo);
      repo_tags[repo].push_back(tag);
    }
    for (const auto& rd : img.repo_digests) {
      auto at = rd.find('@');
      if (at == std::string::npos) continue;
      repo_digests[familiar_name(rd.substr(0, at))].push_back(rd.substr(at + 1));
    }
    std::vector<Json> mine;
    for (const auto& repo : repo_order) {
      std::vector<std::string> ds = repo_digests[repo];
      repo_digests.erase(repo);
      if (!digests) ds.clear();
      for (const auto& tag : repo_tags[repo]) {
        if (ds.empty()) {
          mine.push_back(row(repo, tag, "<none>"));
          continue;
        }
        for (const auto& d : ds) mine.push_back(row(repo, tag, d));
      }
    }
    for (const auto& [repo, ds] : repo_digests) {
      if (digests) {
        for (const auto& d : ds) mine.push_back(row(repo, "<none>", d));
      } else {
        mine.push_back(row(repo, "<none>", "<none>"));
      }
    }
    if (mine.empty()) mine.push_back(row("<none>", "<none>", "<none>"));
    for (auto& r : mine) rows.push_back(std::move(r));
  }
  return rows;
}

Json history_headers() {
  return Json{{"ID", "IMAGE"},
              {"CreatedSince", "CREATED"},
              {"CreatedAt", "CREATED AT"},
              {"CreatedBy", "CREATED BY"},
              {"Size", "SIZE"},
              {"Comment", "COMMENT"}};
}

std::vector<Json> history_rows(const std::vector<api::client::HistoryItem>& items, bool human,
                               bool trunc, int64_t now) {
  std::vector<Json> rows;
  for (const auto& h : items) {
    std::string created_by = h.created_by;
    for (char& c : created_by)
      if (c == '\t') c = ' ';
    if (trunc) created_by = ellipsis(created_by, 45);
    std::string id = h.id;
    if (trunc && id != "<missing>") id = truncate_id(id);
    rows.push_back(Json{
        {"ID", id},
        {"CreatedSince", human ? time_ago(h.created, now) : rfc3339_local(h.created)},
        {"CreatedAt", rfc3339_local(h.created)},
        {"CreatedBy", created_by},
        {"Size", human ? human_size(static_cast<double>(h.size), 3) : std::to_string(h.size)},
        {"Comment", h.comment},
    });
  }
  return rows;
}

Json search_headers() {
  return Json{{"Name", "NAME"},
              {"Description", "DESCRIPTION"},
              {"StarCount", "STARS"},
              {"IsOfficial", "OFFICIAL"},
              {"IsAutomated", "AUTOMATED"}};
}

std::vector<Json> search_rows(const std::vector<api::client::SearchResult>& results, bool trunc) {
  std::vector<Json> rows;
  for (const auto& s : results) {
    std::string desc = s.description;
    for (char& c : desc)
      if (c == '\n' || c == '\r') c = ' ';
    if (trunc) desc = ellipsis(desc, 45);
    rows.push_back(Json{{"Name", s.name},
                        {"Description", desc},
                        {"StarCount", std::to_string(s.star_count)},
                        {"IsOfficial", s.is_official ? "[OK]" : ""},
                        {"IsAutomated", s.is_automated ? "[OK]" : ""}});
  }
  return rows;
}

}  // namespace berth::cli
