// dashboard/settings.h — the settings page's model: berthd's autostart
// (systemd unit state), the default json-file log options and the docker.io
// registry mirrors; their JSON form (GET/PUT /api/berth/settings) and how a
// change is written into daemon.json.
//
// The dashboard module does not own berthd's configuration: cmd/berthd
// passes SettingsHooks, and validates a patch against everything daemon.json
// accepts before anything is written. This file checks the shape (types,
// known keys, URL form) so a bad body is refused with the field's name.
// Depends on: base.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::dashboard {

struct AutostartState {
  bool supported = false;
  bool enabled = false;
  std::string state;   // `systemctl is-enabled` output, or "not-installed"
  std::string detail;  // plain words when unsupported or failed
};

struct Settings {
  AutostartState autostart;
  std::map<std::string, std::string> log_opts;  // "max-size", "max-file"
  std::vector<std::string> registry_mirrors;
};

// A PUT body: any subset of the three keys.
struct SettingsPatch {
  std::optional<bool> autostart_enabled;
  std::optional<std::map<std::string, std::string>> log_opts;
  std::optional<std::vector<std::string>> registry_mirrors;
};

// {"autostart": {...}, "log_opts": {...}, "registry_mirrors": [...]}
Json encode_settings(const Settings& s);

// Parses and checks a PUT body. InvalidArgument names the field
// ("log_opts.max-size: ...", "registry_mirrors[1]: ...") for unknown keys,
// wrong types, log_opts keys other than max-size/max-file, and mirrors
// that are not http(s)://host[:port][/path] URLs.
Result<SettingsPatch> decode_settings_patch(std::string_view body);

// daemon.json text with the patch applied ("log-opts", "registry-mirrors";
// an empty log_opts / mirror list removes the key) and every other key kept.
// `existing` "" means no file yet. InvalidArgument when it is not a JSON
// object.
Result<std::string> merge_daemon_json(std::string_view existing, const SettingsPatch& p);

// Reads `path` (missing = {}), merges, writes it back crash-safely (temp ->
// fsync -> rename; the parent directory is created 0755 when missing) with
// the old file's mode (0644 for a new one).
Result<void> write_daemon_json(const std::string& path, const SettingsPatch& p);

// How the dashboard reads and changes the daemon's settings (cmd/berthd
// implements them; both may be called from any connection thread).
struct SettingsHooks {
  std::function<Settings()> get;
  // Validates the whole patch first (nothing changes on InvalidArgument or
  // FailedPrecondition), then writes daemon.json, applies it live, switches
  // autostart, and returns the settings as read back.
  std::function<Result<Settings>(const SettingsPatch&)> apply;
};

}  // namespace berth::dashboard
