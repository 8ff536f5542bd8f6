// seccomp_profile: docker's seccomp profile JSON -> oci::Seccomp.
#include "base/json.h"
#include "engine/seccomp_default.h"
#include "engine/seccomp_profile_internal.h"

namespace berth::engine {
namespace si = seccomp_internal;
namespace {

constexpr std::string_view kWhat = "seccomp profile";

Error field_error(const std::string& field, std::string_view msg) {
  return make_error(Errc::InvalidArgument, "{}: {}: {}", kWhat, field, msg);
}

Result<std::string> get_string(const Json& obj, const char* key, const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return field_error(field + "." + key, "must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> get_strings(const Json& obj, const char* key,
                                             const std::string& field) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  std::string f = field.empty() ? key : field + "." + key;
  if (!it->is_array()) return field_error(f, "must be an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) return field_error(fmt::format("{}[{}]", f, i), "must be a string");
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

Result<std::optional<uint64_t>> get_uint(const Json& obj, const char* key, const std::string& field,
                                         uint64_t max) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<uint64_t>();
  std::string f = field.empty() ? key : field + "." + key;
  if (!it->is_number_integer() ||
      (it->is_number_integer() && !it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return field_error(f, "must be a non-negative integer");
  }
  uint64_t v = it->get<uint64_t>();
  if (v > max) return field_error(f, fmt::format("{} is out of range", v));
  return std::optional<uint64_t>(v);
}

Result<si::Filter> parse_filter(const Json& obj, const char* key, const std::string& field) {
  si::Filter f;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return f;
  std::string ff = field + "." + key;
  if (!it->is_object()) return field_error(ff, "must be an object");
  f.caps = BERTH_TRY(get_strings(*it, "caps", ff));
  f.arches = BERTH_TRY(get_strings(*it, "arches", ff));
  f.min_kernel = BERTH_TRY(get_string(*it, "minKernel", ff));
  if (!f.min_kernel.empty()) {
    // "<major>.<minor>" as docker requires.
    auto dot = f.min_kernel.find('.');
    bool good = dot != std::string::npos && dot > 0 && dot + 1 < f.min_kernel.size();
    for (size_t i = 0; good && i < f.min_kernel.size(); ++i) {
      char c = f.min_kernel[i];
      if (i != dot && (c < '0' || c > '9')) good = false;
    }
    if (!good) return field_error(ff + ".minKernel", "invalid kernel version: " + f.min_kernel);
  }
  return f;
}

Result<si::Rule> parse_rule(const Json& j, const std::string& field) {
  if (!j.is_object()) return field_error(field, "must be an object");
  si::Rule r;
  std::string name = BERTH_TRY(get_string(j, "name", field));
  r.names = BERTH_TRY(get_strings(j, "names", field));
  if (!name.empty() && !r.names.empty()) {
    return field_error(field, "'name' and 'names' were specified, use either 'name' or 'names'");
  }
  if (!name.empty()) r.names = {name};
  if (r.names.empty()) return field_error(field + ".names", "must name at least one syscall");
  r.action = BERTH_TRY(get_string(j, "action", field));
  if (r.action.empty()) return field_error(field + ".action", "is required");
  auto er = BERTH_TRY(get_uint(j, "errnoRet", field, 4095));
  if (er) r.errno_ret = static_cast<uint32_t>(*er);
  if (auto it = j.find("args"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return field_error(field + ".args", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      std::string af = fmt::format("{}.args[{}]", field, i);
      const Json& a = (*it)[i];
      if (!a.is_object()) return field_error(af, "must be an object");
      oci::SeccompArg arg;
      arg.index = static_cast<uint32_t>(BERTH_TRY(get_uint(a, "index", af, 5)).value_or(0));
      arg.value = BERTH_TRY(get_uint(a, "value", af, UINT64_MAX)).value_or(0);
      arg.value_two = BERTH_TRY(get_uint(a, "valueTwo", af, UINT64_MAX)).value_or(0);
      arg.op = BERTH_TRY(get_string(a, "op", af));
      if (arg.op.empty()) return field_error(af + ".op", "is required");
      r.args.push_back(std::move(arg));
    }
  }
  r.includes = BERTH_TRY(parse_filter(j, "includes", field));
  r.excludes = BERTH_TRY(parse_filter(j, "excludes", field));
  return r;
}

Result<si::Profile> parse_profile(const Json& j) {
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "{}: must be a JSON object", kWhat);
  si::Profile p;
  p.default_action = BERTH_TRY(get_string(j, "defaultAction", ""));
  if (p.default_action.empty()) return field_error("defaultAction", "is required");
  auto der = BERTH_TRY(get_uint(j, "defaultErrnoRet", "", 4095));
  if (der) p.default_errno_ret = static_cast<uint32_t>(*der);
  p.architectures = BERTH_TRY(get_strings(j, "architectures", ""));
  if (auto it = j.find("archMap"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return field_error("archMap", "must be an array");
    if (!p.architectures.empty()) {
      return field_error("archMap", "'architectures' and 'archMap' cannot both be specified");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      std::string f = fmt::format("archMap[{}]", i);
      const Json& e = (*it)[i];
      if (!e.is_object()) return field_error(f, "must be an object");
      si::ArchMapEntry a;
      a.arch = BERTH_TRY(get_string(e, "architecture", f));
      if (a.arch.empty()) return field_error(f + ".architecture", "is required");
      a.sub_arches = BERTH_TRY(get_strings(e, "subArchitectures", f));
      p.arch_map.push_back(std::move(a));
    }
  }
  p.flags = BERTH_TRY(get_strings(j, "flags", ""));
  p.listener_path = BERTH_TRY(get_string(j, "listenerPath", ""));
  p.listener_metadata = BERTH_TRY(get_string(j, "listenerMetadata", ""));
  if (auto it = j.find("syscalls"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return field_error("syscalls", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      p.syscalls.push_back(BERTH_TRY(parse_rule((*it)[i], fmt::format("syscalls[{}]", i))));
    }
  }
  return p;
}

}  // namespace

Result<oci::Seccomp> load_seccomp_profile(std::string_view json,
                                          const std::vector<std::string>& caps,
                                          std::string_view arch) {
  Json j = BERTH_TRY(parse_json(json, kWhat));
  si::Profile p = BERTH_TRY(parse_profile(j));
  return si::apply(p, caps, arch);
}

}  // namespace berth::engine
