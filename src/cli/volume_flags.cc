// cli/volume_flags.cc — docker CLI's -v and --mount parsing.
#include "cli/volume_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "base/size.h"
#include "base/strings.h"
#include "cli/run_flags.h"

namespace berth::cli {

namespace {

std::string working_dir(const std::string& cwd) {
  if (!cwd.empty()) return cwd;
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string("/");
}

// filepath.Abs for "." and "./x": joined with the working directory, cleaned.
std::string make_abs(const std::string& p, const std::string& cwd) {
  std::vector<std::string> out;
  for (const auto& part : split(working_dir(cwd) + "/" + p, '/', true)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(part);
  }
  return "/" + join(out, "/");
}

struct ParsedVolume {
  std::string source, target;
};

// docker/cli's loader.ParseVolume, for what run needs (source and target).
Result<ParsedVolume> parse_volume(const std::string& spec) {
  ParsedVolume v;
  if (spec.empty()) return make_error(Errc::InvalidArgument, "invalid empty volume spec");
  if (spec.size() <= 2) {
    v.target = spec;
    return v;
  }
  std::vector<std::string> parts;
  std::string buf;
  for (size_t i = 0; i <= spec.size(); ++i) {
    if (i < spec.size() && spec[i] != ':') {
      buf.push_back(spec[i]);
      continue;
    }
    bool end = i == spec.size();
    auto fail = [&](const char* why) {
      return make_error(Errc::InvalidArgument, "invalid spec: {}: {}", spec, why);
    };
    if (buf.empty()) return fail("empty section between colons");
    if (v.source.empty() && end) {
      v.target = buf;
    } else if (v.source.empty()) {
      v.source = buf;
    } else if (v.target.empty()) {
      v.target = buf;
    } else if (!end) {
      return fail("too many colons");
    }
    buf.clear();
  }
  return v;
}

bool is_file_path(const std::string& s) {
  return !s.empty() && (s[0] == '.' || s[0] == '/' || s[0] == '~');
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(const std::string& v) {
  static const char* kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char* kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (const char* t : kTrue)
    if (v == t) return true;
  for (const char* f : kFalse)
    if (v == f) return false;
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cur.push_back(ch);
      }
    } else if (ch == ',') {
      out.push_back(cur);
      cur.clear();
      was_quoted = false;
    } else if (ch == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else {
      cur.push_back(ch);
    }
  }
  if (quoted) {
    return make_error(Errc::InvalidArgument,
                      "parse error on line 1, column {}: extraneous or "
                      "missing \" in quoted-field",
                      line.size() + 1);
  }
  out.push_back(cur);
  return out;
}

Result<Json> parse_mount_flag(const std::string& value, const std::string& cwd) {
  auto fields = BERTH_TRY(csv_fields(value));
  Json m = Json::object();
  std::string type = "volume";
  std::string source, target;
  bool read_only = false;
  Json bind = nullptr, vol = nullptr, tmpfs = nullptr;
  auto obj = [](Json& j) -> Json& {
    if (j.is_null()) j = Json::object();
    return j;
  };
  auto kv = [](Json& target_map, const std::string& v) {
    auto eq = v.find('=');
    std::string k = v.substr(0, eq);
    if (!k.empty()) target_map[k] = eq == std::string::npos ? "" : v.substr(eq + 1);
  };
  auto err = [](const std::string& msg) { return Error{Errc::InvalidArgument, 0, msg}; };
  for (const std::string& field : fields) {
    auto eq = field.find('=');
    std::string key = lower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        read_only = true;
      } else if (key == "volume-nocopy") {
        obj(vol)["NoCopy"] = true;
      } else if (key == "bind-nonrecursive") {
        obj(bind)["NonRecursive"] = true;
      } else {
        return err("invalid field '" + field + "' must be a key=value pair");
      }
      continue;
    }
    std::string val = field.substr(eq + 1);
    auto bool_val = [&](const std::string& what) -> Result<bool> {
      auto b = parse_go_bool(val);
      if (!b) return err("invalid value for " + what + ": " + val);
      return *b;
    };
    if (key == "type") {
      type = lower(val);
    } else if (key == "source" || key == "src") {
      source = (val == "." || starts_with(val, "./")) ? make_abs(val, cwd) : val;
    } else if (key == "target" || key == "dst" || key == "destination") {
      target = val;
    } else if (key == "readonly" || key == "ro") {
      read_only = BERTH_TRY(bool_val(key));
    } else if (key == "consistency") {
      m["Consistency"] = lower(val);
    } else if (key == "bind-propagation") {
      obj(bind)["Propagation"] = lower(val);
    } else if (key == "bind-nonrecursive") {
      obj(bind)["NonRecursive"] = BERTH_TRY(bool_val(key));
    } else if (key == "volume-nocopy") {
      obj(vol)["NoCopy"] = BERTH_TRY(bool_val(key));
    } else if (key == "volume-label") {
      kv(obj(obj(vol)["Labels"]), val);
    } else if (key == "volume-driver") {
      obj(obj(vol)["DriverConfig"])["Name"] = val;
    } else if (key == "volume-opt") {
      kv(obj(obj(obj(vol)["DriverConfig"])["Options"]), val);
    } else if (key == "tmpfs-size") {
      auto n = parse_ram_in_bytes(val);
      if (!n) return err("invalid value for " + key + ": " + val);
      obj(tmpfs)["SizeBytes"] = *n;
    } else if (key == "tmpfs-mode") {
      // strconv.ParseUint(val, 8, 32)
      bool ok = !val.empty() && val.size() <= 11 &&
                val.find_first_not_of("01234567") == std::string::npos;
      unsigned long long mode = ok ? std::stoull(val, nullptr, 8) : 0;
      if (!ok || mode > 0xffffffffULL) return err("invalid value for " + key + ": " + val);
      obj(tmpfs)["Mode"] = mode;
    } else {
      return err("unexpected key '" + key + "' in '" + field + "'");
    }
  }
  if (type.empty()) return err("type is required");
  if (target.empty()) return err("target is required");
  if (!vol.is_null() && type != "volume") {
    return err("cannot mix 'volume-*' options with mount type '" + type + "'");
  }
  if (!bind.is_null() && type != "bind") {
    return err("cannot mix 'bind-*' options with mount type '" + type + "'");
  }
  if (!tmpfs.is_null() && type != "tmpfs") {
    return err("cannot mix 'tmpfs-*' options with mount type '" + type + "'");
  }
  m["Type"] = type;
  if (!source.empty()) m["Source"] = source;
  m["Target"] = target;
  if (read_only) m["ReadOnly"] = true;
  if (!bind.is_null()) m["BindOptions"] = bind;
  if (!vol.is_null()) m["VolumeOptions"] = vol;
  if (!tmpfs.is_null()) m["TmpfsOptions"] = tmpfs;
  return m;
}

Result<VolumeFlags> parse_volume_flags(const std::vector<std::string>& volumes,
                                       const std::vector<std::string>& mounts,
                                       const std::string& cwd) {
  VolumeFlags out;
  for (const std::string& spec : volumes) {
    ParsedVolume p = BERTH_TRY(parse_volume(spec));
    if (p.source.empty()) {
      if (out.volumes.is_null()) out.volumes = Json::object();
      out.volumes[spec] = Json::object();
      continue;
    }
    std::string bind = spec;
    if (is_file_path(p.source) && p.source[0] == '.') {
      auto colon = spec.find(':');
      bind = make_abs(spec.substr(0, colon), cwd) + spec.substr(colon);
    }
    if (out.binds.is_null()) out.binds = Json::array();
    out.binds.push_back(bind);
  }
  for (const std::string& m : mounts) {
    auto j = parse_mount_flag(m, cwd);
    if (!j) return flag_value_error("--mount", m, j.error().message);
    if (out.mounts.is_null()) out.mounts = Json::array();
    out.mounts.push_back(std::move(*j));
  }
  return out;
}

}  // namespace berth::cli
