#include "cli/config_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "api/client/auth.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::cli {

std::string ConfigFile::default_dir() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker";
}

Result<ConfigFile> ConfigFile::load(const std::string& dir) {
  ConfigFile c;
  c.dir_ = dir;
  c.path_ = dir + "/config.json";
  auto text = read_file(c.path_);
  if (!text) {
    if (text.error().code == Errc::NotFound) return c;
    return text.error().context("loading config file " + c.path_);
  }
  if (trim(*text).empty()) return c;
  auto j = parse_json(*text, c.path_);
  if (!j) return j.error();
  if (!j->is_object())
    return make_error(Errc::InvalidArgument, "{}: expected a JSON object", c.path_);
  c.json_ = std::move(*j);
  return c;
}

std::string ConfigFile::server_key(const std::string& domain) {
  if (domain.empty() || domain == "docker.io" || domain == "index.docker.io" ||
      domain == "registry-1.docker.io")
    return kHubAuthKey;
  return domain;
}

static std::string host_of(std::string s) {
  for (const char* scheme : {"https://", "http://"})
    if (starts_with(s, scheme)) s = s.substr(std::string(scheme).size());
  if (auto slash = s.find('/'); slash != std::string::npos) s = s.substr(0, slash);
  return s;
}

std::string ConfigFile::normalize_server(const std::string& server) {
  if (server.empty() || server == kHubAuthKey) return kHubAuthKey;
  std::string h = host_of(server);
  return server_key(h);
}

Result<std::optional<Credentials>> ConfigFile::get(const std::string& server) const {
  auto it = json_.find("auths");
  if (it == json_.end() || !it->is_object()) return std::optional<Credentials>();
  const Json* entry = nullptr;
  std::string found;
  if (auto e = it->find(server); e != it->end()) {
    entry = &*e;
    found = server;
  } else {
    std::string want = server == kHubAuthKey ? "index.docker.io" : host_of(server);
    for (auto e2 = it->begin(); e2 != it->end(); ++e2) {
      if (host_of(e2.key()) == want) {
        entry = &*e2;
        found = e2.key();
        break;
      }
    }
  }
  if (!entry || !entry->is_object()) return std::optional<Credentials>();
  Credentials c;
  c.server = found;
  if (auto a = entry->find("auth");
      a != entry->end() && a->is_string() && !a->get_ref<const std::string&>().empty()) {
    auto decoded = api::client::base64_decode(a->get<std::string>());
    if (!decoded)
      return make_error(Errc::InvalidArgument, "{}: auths[\"{}\"].auth: invalid base64", path_,
                        found);
    auto colon = decoded->find(':');
    if (colon == std::string::npos)
      return make_error(Errc::InvalidArgument,
                        "{}: auths[\"{}\"].auth: expected base64(\"user:password\")", path_, found);
    c.username = decoded->substr(0, colon);
    c.password = decoded->substr(colon + 1);
  }
  if (auto t = entry->find("identitytoken"); t != entry->end() && t->is_string())
    c.identity_token = t->get<std::string>();
  if (c.username.empty() && c.identity_token.empty()) return std::optional<Credentials>();
  return std::optional<Credentials>(c);
}

std::optional<std::string> ConfigFile::helper_for(const std::string& server) const {
  if (auto h = json_.find("credHelpers"); h != json_.end() && h->is_object()) {
    std::string host = server == kHubAuthKey ? "index.docker.io" : host_of(server);
    for (auto it = h->begin(); it != h->end(); ++it)
      if (host_of(it.key()) == host && it->is_string()) return it->get<std::string>();
  }
  if (auto s = json_.find("credsStore");
      s != json_.end() && s->is_string() && !s->get_ref<const std::string&>().empty())
    return s->get<std::string>();
  return std::nullopt;
}

void ConfigFile::set(const std::string& server, const Credentials& c) {
  if (!json_.contains("auths") || !json_["auths"].is_object()) json_["auths"] = Json::object();
  Json entry = Json::object();
  entry["auth"] = api::client::base64_encode(c.username + ":" + c.password);
  if (!c.identity_token.empty()) entry["identitytoken"] = c.identity_token;
  json_["auths"][server] = entry;
}

bool ConfigFile::erase(const std::string& server) {
  auto it = json_.find("auths");
  if (it == json_.end() || !it->is_object()) return false;
  bool erased = it->erase(server) > 0;
  if (!erased) {
    std::string want = server == kHubAuthKey ? "index.docker.io" : host_of(server);
    for (auto e = it->begin(); e != it->end(); ++e) {
      if (host_of(e.key()) == want) {
        it->erase(e);
        erased = true;
        break;
      }
    }
  }
  return erased;
}

Result<void> ConfigFile::save() const {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
    return sys_error("creating config directory " + dir_);
  // docker writes the file indented with tabs.
  std::string text = json_.dump(1, '\t', false, Json::error_handler_t::replace) + "\n";
  auto r = write_file_atomic(path_, text, 0600);
  if (!r) return r.error().context("saving config file " + path_);
  return ok();
}

}  // namespace berth::cli
