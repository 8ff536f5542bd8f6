// Decoding of config.json: the document, process, root, mounts and hooks.
// The "linux" object is in spec_decode_linux.cc.
#include "oci/json_reader.h"
#include "oci/spec_codec.h"
#include "oci/spec_decode_internal.h"

namespace berth::oci {
namespace detail {
namespace {

Result<User> decode_user(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  User u;
  u.uid = BERTH_TRY(r.integer<uint32_t>("uid"));
  u.gid = BERTH_TRY(r.integer<uint32_t>("gid"));
  u.umask = BERTH_TRY(r.opt_integer<uint32_t>("umask"));
  u.additional_gids = BERTH_TRY(
      r.array("additionalGids", [](const JsonReader& e) { return e.as_int<uint32_t>(); }));
  u.username = BERTH_TRY(r.string("username"));
  return u;
}

Result<Capabilities> decode_capabilities(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Capabilities c;
  c.bounding = BERTH_TRY(r.strings("bounding"));
  c.effective = BERTH_TRY(r.strings("effective"));
  c.inheritable = BERTH_TRY(r.strings("inheritable"));
  c.permitted = BERTH_TRY(r.strings("permitted"));
  c.ambient = BERTH_TRY(r.strings("ambient"));
  return c;
}

Result<Rlimit> decode_rlimit(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Rlimit l;
  l.type = BERTH_TRY(r.string("type"));
  l.hard = BERTH_TRY(r.integer<uint64_t>("hard"));
  l.soft = BERTH_TRY(r.integer<uint64_t>("soft"));
  return l;
}

Result<Scheduler> decode_scheduler(const JsonReader& r) {
  Scheduler s;
  s.policy = BERTH_TRY(r.string("policy"));
  s.nice = BERTH_TRY(r.integer<int>("nice"));
  s.priority = BERTH_TRY(r.integer<int>("priority"));
  s.flags = BERTH_TRY(r.strings("flags"));
  s.runtime = BERTH_TRY(r.integer<uint64_t>("runtime"));
  s.deadline = BERTH_TRY(r.integer<uint64_t>("deadline"));
  s.period = BERTH_TRY(r.integer<uint64_t>("period"));
  return s;
}

Result<Root> decode_root(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Root root;
  root.path = BERTH_TRY(r.string("path"));
  root.readonly = BERTH_TRY(r.boolean("readonly"));
  return root;
}

Result<Mount> decode_mount(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Mount m;
  m.destination = BERTH_TRY(r.string("destination"));
  m.type = BERTH_TRY(r.string("type"));
  m.source = BERTH_TRY(r.string("source"));
  m.options = BERTH_TRY(r.strings("options"));
  m.uid_mappings = BERTH_TRY(r.array("uidMappings", decode_id_mapping));
  m.gid_mappings = BERTH_TRY(r.array("gidMappings", decode_id_mapping));
  return m;
}

Result<Hook> decode_hook(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Hook h;
  h.path = BERTH_TRY(r.string("path"));
  h.args = BERTH_TRY(r.strings("args"));
  h.env = BERTH_TRY(r.strings("env"));
  h.timeout = BERTH_TRY(r.opt_integer<int>("timeout"));
  return h;
}

Result<Hooks> decode_hooks(const JsonReader& r) {
  Hooks h;
  h.prestart = BERTH_TRY(r.array("prestart", decode_hook));
  h.create_runtime = BERTH_TRY(r.array("createRuntime", decode_hook));
  h.create_container = BERTH_TRY(r.array("createContainer", decode_hook));
  h.start_container = BERTH_TRY(r.array("startContainer", decode_hook));
  h.poststart = BERTH_TRY(r.array("poststart", decode_hook));
  h.poststop = BERTH_TRY(r.array("poststop", decode_hook));
  return h;
}

}  // namespace

Result<IdMapping> decode_id_mapping(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  IdMapping m;
  m.container_id = BERTH_TRY(r.integer<uint32_t>("containerID"));
  m.host_id = BERTH_TRY(r.integer<uint32_t>("hostID"));
  m.size = BERTH_TRY(r.integer<uint32_t>("size"));
  return m;
}

Result<Process> decode_process(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Process p;
  p.terminal = BERTH_TRY(r.boolean("terminal"));
  if (auto cs = BERTH_TRY(r.object("consoleSize"))) {
    ConsoleSize size;
    size.height = BERTH_TRY(cs->integer<uint32_t>("height"));
    size.width = BERTH_TRY(cs->integer<uint32_t>("width"));
    p.console_size = size;
  }
  if (r.has("user")) p.user = BERTH_TRY(decode_user(r.member("user")));
  p.args = BERTH_TRY(r.strings("args"));
  p.command_line = BERTH_TRY(r.string("commandLine"));
  p.env = BERTH_TRY(r.strings("env"));
  p.cwd = BERTH_TRY(r.string("cwd"));
  if (r.has("capabilities")) {
    p.capabilities = BERTH_TRY(decode_capabilities(r.member("capabilities")));
  }
  p.rlimits = BERTH_TRY(r.array("rlimits", decode_rlimit));
  p.no_new_privileges = BERTH_TRY(r.boolean("noNewPrivileges"));
  p.apparmor_profile = BERTH_TRY(r.string("apparmorProfile"));
  p.oom_score_adj = BERTH_TRY(r.opt_integer<int>("oomScoreAdj"));
  p.selinux_label = BERTH_TRY(r.string("selinuxLabel"));
  if (auto io = BERTH_TRY(r.object("ioPriority"))) {
    IoPriority prio;
    prio.klass = BERTH_TRY(io->string("class"));
    prio.priority = BERTH_TRY(io->integer<int>("priority"));
    p.io_priority = prio;
  }
  if (auto s = BERTH_TRY(r.object("scheduler"))) p.scheduler = BERTH_TRY(decode_scheduler(*s));
  return p;
}

}  // namespace detail

using detail::JsonReader;

Result<Spec> spec_from_json(const Json& j, std::string_view what) {
  auto decode = [&j]() -> Result<Spec> {
    JsonReader r(j, "");
    BERTH_TRY(r.expect_object());
    Spec s;
    s.oci_version = BERTH_TRY(r.string("ociVersion"));
    if (r.has("process")) s.process = BERTH_TRY(detail::decode_process(r.member("process")));
    if (r.has("root")) s.root = BERTH_TRY(detail::decode_root(r.member("root")));
    s.hostname = BERTH_TRY(r.string("hostname"));
    s.domainname = BERTH_TRY(r.string("domainname"));
    s.mounts = BERTH_TRY(r.array("mounts", detail::decode_mount));
    if (auto h = BERTH_TRY(r.object("hooks"))) s.hooks = BERTH_TRY(detail::decode_hooks(*h));
    s.annotations = BERTH_TRY(r.string_map("annotations"));
    if (r.has("linux")) s.linux = BERTH_TRY(detail::decode_linux(r.member("linux")));
    return s;
  };
  auto s = decode();
  if (!s) return std::move(s).error().context(what);
  return s;
}

Result<Spec> parse_spec(std::string_view text, std::string_view what) {
  Json j = BERTH_TRY(parse_json(text, what));
  return spec_from_json(j, what);
}

}  // namespace berth::oci
