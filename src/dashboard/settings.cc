#include "dashboard/settings.h"

#include <sys/stat.h>

#include <filesystem>

#include "base/file.h"
#include "base/strings.h"

namespace berth::dashboard {

namespace {

Error field_error(std::string_view field, std::string_view what) {
  return make_error(Errc::InvalidArgument, "{}: {}", field, what);
}

// http(s)://host[:port][/path], no user info, query or fragment: what a
// registry mirror can be (the registry client appends /v2/...).
Result<void> check_mirror(const std::string& field, std::string_view url) {
  std::string_view rest;
  if (starts_with(url, "https://")) {
    rest = url.substr(8);
  } else if (starts_with(url, "http://")) {
    rest = url.substr(7);
  } else {
    return field_error(field, fmt::format("{:?} must start with http:// or https://", url));
  }
  std::string_view host = rest.substr(0, rest.find('/'));
  if (host.empty()) return field_error(field, fmt::format("{:?} has no host", url));
  for (char c : rest) {
    if (c <= ' ' || c == '?' || c == '#' || c == '@' || c == '\\' || c == 0x7f)
      return field_error(field, fmt::format("{:?} is not a plain registry URL", url));
  }
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.back() != ']') {
    auto port = parse_int(host.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535)
      return field_error(field, fmt::format("{:?} has an invalid port", url));
  }
  return ok();
}

}  // namespace

Json encode_settings(const Settings& s) {
  Json a = {{"supported", s.autostart.supported},
            {"enabled", s.autostart.enabled},
            {"state", s.autostart.state},
            {"detail", s.autostart.detail}};
  Json opts = Json::object();
  for (const auto& [k, v] : s.log_opts) opts[k] = v;
  return Json{{"autostart", a}, {"log_opts", opts}, {"registry_mirrors", s.registry_mirrors}};
}

Result<SettingsPatch> decode_settings_patch(std::string_view body) {
  auto j = BERTH_TRY(parse_json(body, "settings"));
  if (!j.is_object()) return field_error("settings", "expected a JSON object");
  SettingsPatch p;
  for (const auto& [key, v] : j.items()) {
    if (key == "autostart") {
      if (!v.is_object()) return field_error("autostart", "must be an object {\"enabled\": bool}");
      for (const auto& [k2, v2] : v.items()) {
        // The read-only fields of GET may come back unchanged in a PUT.
        if (k2 == "supported" || k2 == "state" || k2 == "detail") continue;
        if (k2 != "enabled") return field_error("autostart." + k2, "unknown key");
        if (!v2.is_boolean()) return field_error("autostart.enabled", "must be true or false");
        p.autostart_enabled = v2.get<bool>();
      }
    } else if (key == "log_opts") {
      if (!v.is_object()) return field_error("log_opts", "must be an object of strings");
      std::map<std::string, std::string> opts;
      for (const auto& [k2, v2] : v.items()) {
        std::string field = "log_opts." + k2;
        if (k2 != "max-size" && k2 != "max-file")
          return field_error(field, "unknown option (max-size and max-file can be set)");
        if (!v2.is_string()) return field_error(field, "must be a string");
        std::string s(trim(v2.get<std::string>()));
        if (s.empty()) continue;  // "" = back to the default
        opts[k2] = s;
      }
      p.log_opts = std::move(opts);
    } else if (key == "registry_mirrors") {
      if (!v.is_array()) return field_error("registry_mirrors", "must be an array of URLs");
      std::vector<std::string> mirrors;
      for (size_t i = 0; i < v.size(); ++i) {
        std::string field = fmt::format("registry_mirrors[{}]", i);
        if (!v[i].is_string()) return field_error(field, "must be a string");
        std::string url(trim(v[i].get<std::string>()));
        BERTH_TRY(check_mirror(field, url));
        mirrors.push_back(url);
      }
      p.registry_mirrors = std::move(mirrors);
    } else {
      return field_error(key, "unknown setting (autostart, log_opts, registry_mirrors)");
    }
  }
  return p;
}

Result<std::string> merge_daemon_json(std::string_view existing, const SettingsPatch& p) {
  Json j = Json::object();
  if (!trim(existing).empty()) j = BERTH_TRY(parse_json(existing, "daemon.json"));
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "daemon.json: expected an object");
  if (p.log_opts) {
    if (p.log_opts->empty()) {
      j.erase("log-opts");
    } else {
      Json o = Json::object();
      for (const auto& [k, v] : *p.log_opts) o[k] = v;
      j["log-opts"] = o;
    }
  }
  if (p.registry_mirrors) {
    if (p.registry_mirrors->empty())
      j.erase("registry-mirrors");
    else
      j["registry-mirrors"] = *p.registry_mirrors;
  }
  return dump_json(j, 2) + "\n";
}

Result<void> write_daemon_json(const std::string& path, const SettingsPatch& p) {
  std::string existing;
  int mode = 0644;
  if (auto text = read_file(path); text) {
    existing = std::move(*text);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) mode = static_cast<int>(st.st_mode & 07777);
  } else if (text.error().code != Errc::NotFound) {
    return text.error();
  }
  auto merged = BERTH_TRY_CTX(merge_daemon_json(existing, p), path);
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return make_error(Errc::Io, "create {}: {}", parent.string(), ec.message());
  }
  return write_file_atomic(path, merged, mode);
}

}  // namespace berth::dashboard
