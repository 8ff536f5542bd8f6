// Names: platforms, image name resolution, reference filters, --change parsing.
#include <fnmatch.h>

#include <set>

#include "base/strings.h"
#include "image/internal.h"

namespace berth::image {

Result<Platform> Platform::parse(std::string_view s) {
  auto parts = split(s, '/');
  auto bad = [&] {
    return make_error(Errc::InvalidArgument,
                      "\"{}\": unknown operating system or architecture: invalid argument", s);
  };
  for (const auto& p : parts)
    if (p.empty()) return bad();
  oci::ImagePlatform p;
  if (parts.size() == 1) {
    // One component is an OS or an architecture (Go's GOOS/GOARCH names and
    // their common aliases); anything else is an error, as with containerd.
    static const std::set<std::string> kOs = {
        "linux",   "windows", "darwin", "freebsd",   "netbsd",  "openbsd", "solaris",
        "illumos", "aix",     "plan9",  "dragonfly", "android", "ios"};
    static const std::set<std::string> kArch = {
        "amd64",  "x86_64", "x86-64",   "386",     "i386",    "arm",   "armhf",
        "armel",  "arm64",  "aarch64",  "ppc64",   "ppc64le", "s390x", "mips",
        "mipsle", "mips64", "mips64le", "riscv64", "loong64", "wasm"};
    if (kOs.count(parts[0])) {
      p.os = parts[0];
      p.architecture = "amd64";
    } else if (kArch.count(parts[0])) {
      p.os = "linux";
      p.architecture = parts[0];
    } else {
      return bad();
    }
  } else if (parts.size() == 2 || parts.size() == 3) {
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  } else {
    return bad();
  }
  for (char c : std::string(s))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '.'))
      return bad();
  p = oci::normalize_platform(p);
  Platform out;
  out.os = p.os;
  out.architecture = p.architecture;
  out.variant = p.variant;
  return out;
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

namespace {

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Error no_such_image(const std::string& name) {
  return make_error(Errc::NotFound, "No such image: {}", name);
}

}  // namespace

Result<ResolvedName> LocalImageService::resolve(const std::string& name) const {
  if (name.empty()) return no_such_image(name);
  if (starts_with(name, "sha256:")) {
    std::string hex = name.substr(7);
    if (!is_hex(hex)) return no_such_image(name);
    auto id = meta_->resolve_image_prefix(hex);
    if (!id) return no_such_image(name);
    return ResolvedName{*id, std::nullopt};
  }
  // A 64-hex name is always an id (docker refuses it as a repository name).
  if (name.size() == 64 && is_hex(name)) {
    auto id = meta_->resolve_image_prefix(name);
    if (!id) return no_such_image(name);
    return ResolvedName{*id, std::nullopt};
  }
  auto ref = oci::Reference::parse(name);
  if (ref) {
    std::optional<Digest> found;
    if (ref->digest()) {
      found = BERTH_TRY(meta_->lookup_repo_digest(ref->name(), *ref->digest()));
    } else {
      found = BERTH_TRY(meta_->lookup_tag(ref->str()));
    }
    if (found) return ResolvedName{*found, *ref};
  }
  // A short id prefix (docker tries the reference first).
  if (is_hex(name) && name.find(':') == std::string::npos) {
    auto id = meta_->resolve_image_prefix(name);
    if (id) return ResolvedName{*id, std::nullopt};
    if (id.error().code == Errc::Conflict) return std::move(id).error();
    return no_such_image(name);
  }
  // docker names a missing reference in its familiar form ("busybox:latest").
  return no_such_image(ref ? ref->familiar() : name);
}

bool reference_filter_matches(const std::string& pattern, const oci::Reference& ref) {
  // docker matches the pattern against the familiar reference and the
  // familiar name alone ("busybox*" matches "busybox:latest").
  for (const std::string& s : {ref.familiar(), ref.familiar_name(), ref.str(), ref.name()}) {
    if (fnmatch(pattern.c_str(), s.c_str(), 0) == 0) return true;
  }
  return false;
}

namespace {

// Splits on unquoted whitespace; double/single quotes group, backslash escapes.
std::vector<std::string> shell_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

// JSON array form (["a","b"]) or nullopt for the shell form.
std::optional<std::vector<std::string>> json_form(std::string_view rest) {
  if (rest.empty() || rest[0] != '[') return std::nullopt;
  auto j = parse_json(rest, "change");
  if (!j || !j->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : *j) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> exec_form(std::string_view rest) {
  if (auto j = json_form(rest)) return *j;
  return {"/bin/sh", "-c", std::string(rest)};
}

Result<std::vector<std::pair<std::string, std::string>>> key_values(std::string_view instr,
                                                                    std::string_view rest) {
  std::vector<std::pair<std::string, std::string>> out;
  auto words = shell_words(rest);
  if (words.empty())
    return make_error(Errc::InvalidArgument, "{} requires at least one argument", instr);
  if (words[0].find('=') == std::string::npos) {
    // Legacy "ENV key value with spaces".
    if (words.size() < 2)
      return make_error(Errc::InvalidArgument, "{} must have two arguments", instr);
    std::string_view r = trim(rest);
    auto sp = r.find_first_of(" \t");
    out.emplace_back(words[0], std::string(trim(r.substr(sp))));
    return out;
  }
  for (const auto& w : words) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(Errc::InvalidArgument, "{} names can not be blank: \"{}\"", instr, w);
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

}  // namespace

Result<void> apply_changes(const std::vector<std::string>& changes, oci::ContainerConfig& c) {
  for (const auto& change : changes) {
    std::string_view line = trim(change);
    if (line.empty()) continue;
    auto sp = line.find_first_of(" \t");
    std::string instr(line.substr(0, sp));
    for (auto& ch : instr) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::string_view rest = sp == std::string_view::npos ? "" : trim(line.substr(sp));
    auto ctx = [&](Error e) { return e.context(fmt::format("invalid change \"{}\"", change)); };
    if (instr == "CMD") {
      c.cmd = exec_form(rest);
    } else if (instr == "ENTRYPOINT") {
      c.entrypoint = exec_form(rest);
    } else if (instr == "ENV") {
      auto kv = key_values("ENV", rest);
      if (!kv) return ctx(kv.error());
      for (auto& [k, v] : *kv) {
        std::string prefix = k + "=";
        std::erase_if(c.env, [&](const std::string& e) { return starts_with(e, prefix); });
        c.env.push_back(prefix + v);
      }
    } else if (instr == "LABEL") {
      auto kv = key_values("LABEL", rest);
      if (!kv) return ctx(kv.error());
      for (auto& [k, v] : *kv) c.labels[k] = v;
    } else if (instr == "EXPOSE") {
      for (auto p : shell_words(rest)) {
        if (p.find('/') == std::string::npos) p += "/tcp";
        auto slash = p.find('/');
        std::string port = p.substr(0, slash), proto = p.substr(slash + 1);
        auto dash = port.find('-');
        bool ok_port = parse_uint(port.substr(0, dash)).has_value() &&
                       (dash == std::string::npos || parse_uint(port.substr(dash + 1)));
        if (!ok_port || (proto != "tcp" && proto != "udp" && proto != "sctp")) {
          return ctx(make_error(Errc::InvalidArgument, "invalid port \"{}\"", p));
        }
        c.exposed_ports.insert(p);
      }
    } else if (instr == "WORKDIR") {
      if (rest.empty()) return ctx(make_error(Errc::InvalidArgument, "WORKDIR requires a path"));
      std::string dir(rest);
      if (dir[0] != '/') dir = (c.working_dir.empty() ? "/" : c.working_dir + "/") + dir;
      c.working_dir = dir;
    } else if (instr == "USER") {
      if (rest.empty()) return ctx(make_error(Errc::InvalidArgument, "USER requires a name"));
      c.user = std::string(rest);
    } else if (instr == "VOLUME") {
      auto vols = json_form(rest).value_or(shell_words(rest));
      if (vols.empty()) return ctx(make_error(Errc::InvalidArgument, "VOLUME requires a path"));
      for (const auto& v : vols) c.volumes.insert(v);
    } else if (instr == "STOPSIGNAL") {
      c.stop_signal = std::string(rest);
    } else {
      return make_error(Errc::InvalidArgument, "{} is not a valid change command", instr);
    }
  }
  return ok();
}

}  // namespace berth::image
