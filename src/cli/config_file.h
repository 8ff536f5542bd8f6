// cli/config_file.h — docker's client config (~/.docker/config.json), shared
// with the docker CLI so both see the same logins.
//
// Location: --config DIR, else $DOCKER_CONFIG, else $HOME/.docker.
// Credentials live in "auths": {"<server>": {"auth": base64("user:pass")}}
// (plus "identitytoken" when the registry issued one). The key for Docker
// Hub is "https://index.docker.io/v1/"; other registries use "host[:port]".
// Unknown keys are preserved. Writes are atomic (temp + rename) with mode
// 0600, directory created 0700. Credential helpers ("credsStore",
// "credHelpers") are not run by berth: login refuses to store a password in
// the file when one is configured for that server, and lookups skip it.
// Depends on: base, api/client (base64).
#pragma once

#include <optional>
#include <string>

#include "base/json.h"
#include "base/result.h"

namespace berth::cli {

inline constexpr const char* kHubAuthKey = "https://index.docker.io/v1/";

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;
  std::string server;  // the key it was found under
};

class ConfigFile {
 public:
  static std::string default_dir();  // $DOCKER_CONFIG or $HOME/.docker
  // Missing file: an empty config. Bad JSON / bad "auth": InvalidArgument
  // naming the file.
  static Result<ConfigFile> load(const std::string& dir);

  const std::string& path() const { return path_; }
  // Server key for a registry domain: "docker.io" -> kHubAuthKey, else as is.
  static std::string server_key(const std::string& domain);
  // Normalizes what a user types after `login`/`logout`: "" / "docker.io" /
  // "index.docker.io" / "https://index.docker.io/v1/" -> kHubAuthKey;
  // "http(s)://host:port/..." -> "host:port".
  static std::string normalize_server(const std::string& server);

  // Stored credentials for a server key (also matches keys written with a
  // scheme or path, as docker does).
  Result<std::optional<Credentials>> get(const std::string& server) const;
  // The helper configured for this server, if any ("credsStore" or "credHelpers").
  std::optional<std::string> helper_for(const std::string& server) const;

  void set(const std::string& server, const Credentials& c);
  bool erase(const std::string& server);  // false when not stored
  Result<void> save() const;

  const Json& json() const { return json_; }

 private:
  std::string dir_;
  std::string path_;
  Json json_ = Json::object();
};

}  // namespace berth::cli
