// The builder's frame: the Dockerfile read and split into stages, FROM, and
// the instructions that change only the image config (ENV, LABEL, ARG,
// CMD, ENTRYPOINT, USER, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL,
// MAINTAINER, ONBUILD). Semantics and messages follow docker's classic
// builder; see builder.h.
#include <fcntl.h>

#include <algorithm>

#include "base/ascii.h"
#include "base/duration.h"
#include "base/file.h"
#include "base/strings.h"
#include "engine/archive.h"
#include "engine/builder_internal.h"
#include "oci/reference.h"
#include "sys/syscalls.h"

namespace berth::engine {
namespace builder {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Sets K=V in an Env array (replacing K's earlier value, keeping its place).
void set_env(Json& config, const std::string& k, const std::string& v) {
  Json& env = config["Env"];
  if (!env.is_array()) env = Json::array();
  const std::string prefix = k + "=";
  for (auto& e : env) {
    if (e.is_string() && starts_with(e.get<std::string>(), prefix)) {
      e = prefix + v;
      return;
    }
  }
  env.push_back(prefix + v);
}

// docker's "#(nop)" comment of a config-only step: "ENV A=b B=c".
std::string pairs_comment(const std::string& kw,
                          const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string s = kw;
  for (const auto& [k, v] : kv) s += " " + k + "=" + v;
  return s;
}

Result<std::vector<std::pair<std::string, std::string>>> expand_pairs(const build::Instruction& in,
                                                                      const build::Lookup& env,
                                                                      char escape) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (size_t i = 0; i + 1 < in.args.size(); i += 2) {
    auto k = BERTH_TRY(build::expand_word(in.args[i], env, escape));
    auto v = BERTH_TRY(build::expand_word(in.args[i + 1], env, escape));
    if (k.empty())
      return make_error(Errc::InvalidArgument, "{} names can not be blank", in.keyword);
    kv.emplace_back(std::move(k), std::move(v));
  }
  return kv;
}

// "80", "80/udp", "8000-8002/tcp" -> ExposedPorts keys.
Result<std::vector<std::string>> exposed(const std::string& word) {
  std::string port = word, proto = "tcp";
  if (auto slash = word.find('/'); slash != std::string::npos) {
    port = word.substr(0, slash);
    proto = ascii_lower(word.substr(slash + 1));
  }
  auto bad = [&] { return make_error(Errc::InvalidArgument, "invalid containerPort: {}", port); };
  if (proto != "tcp" && proto != "udp" && proto != "sctp")
    return make_error(Errc::InvalidArgument, "invalid proto: {}", proto);
  auto dash = port.find('-');
  auto lo = parse_uint(port.substr(0, dash));
  auto hi = dash == std::string::npos ? lo : parse_uint(port.substr(dash + 1));
  if (!lo || !hi || *lo > 65535 || *hi > 65535 || *hi < *lo) return bad();
  std::vector<std::string> out;
  for (auto p = *lo; p <= *hi; ++p) out.push_back(fmt::format("{}/{}", p, proto));
  return out;
}

}  // namespace

void Build::say(std::string_view text) {
  if (!o_.quiet && out_.stream) out_.stream(text);
}

Result<void> Build::check_cancel() const {
  if (o_.cancel && o_.cancel->load()) return make_error(Errc::Cancelled, "build cancelled");
  return ok();
}

// ENV first, then this stage's ARGs with a value (docker: "ENV always
// overrides an ARG of the same name").
build::Lookup Build::lookup(const Stage& s) const {
  const Json env = s.config.value("Env", Json::array());
  auto image_env = build::lookup_env(strings_of(env));
  const auto* args = &s.args;
  return [image_env, args](std::string_view name) -> std::optional<std::string> {
    if (auto v = image_env(name)) return v;
    for (auto it = args->rbegin(); it != args->rend(); ++it)
      if (it->first == name) return it->second;
    return std::nullopt;
  };
}

build::Lookup Build::meta_lookup() const {
  const auto* meta = &meta_args_;
  return [meta](std::string_view name) -> std::optional<std::string> {
    auto it = meta->find(std::string(name));
    if (it == meta->end()) return std::nullopt;
    return it->second;
  };
}

std::vector<std::string> Build::run_args_env(const Stage& s) const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  const auto env = build::lookup_env(strings_of(s.config.value("Env", Json::array())));
  for (auto it = s.args.rbegin(); it != s.args.rend(); ++it) {
    if (!it->second || !seen.insert(it->first).second || env(it->first)) continue;
    out.push_back(it->first + "=" + *it->second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> Build::shell_or_exec(const Stage& s,
                                                      const build::Instruction& in) {
  if (in.json_form) return in.args;
  std::vector<std::string> cmd = strings_of(s.config.value("Shell", Json::array()));
  if (cmd.empty()) cmd = {"/bin/sh", "-c"};
  cmd.push_back(in.args.empty() ? std::string() : in.args[0]);
  return cmd;
}

Result<Digest> Build::run() {
  // Tags are checked before any work, as docker does.
  for (const auto& t : o_.tags) {
    auto ref = oci::Reference::parse(t, true);
    if (!ref) return std::move(ref).error();
    if (ref->digest())
      return make_error(Errc::InvalidArgument, "invalid reference format: {} has a digest", t);
  }
  for (const auto& name : o_.cache_from) {
    auto have = images_.inspect(name);
    if (have) {
      cache_sources_.push_back(have->summary.id);
    } else if (have.error().code == Errc::NotFound) {
      // dockerd logs and skips it; the user sees why nothing was reused.
      say(fmt::format("[WARNING]: cache source {} is not here; pull it first\n", name));
    } else {
      return std::move(have).error();
    }
  }
  auto root = BERTH_TRY(open_root(context_));
  auto fd = sys::open_in_root(root.get(), o_.dockerfile, O_RDONLY | O_CLOEXEC);
  if (!fd) {
    if (fd.error().code == Errc::NotFound)
      return make_error(Errc::InvalidArgument, "Cannot locate specified Dockerfile: {}",
                        o_.dockerfile);
    return std::move(fd).error().context("open " + o_.dockerfile);
  }
  std::string text = BERTH_TRY(read_fd(fd->get(), o_.dockerfile));
  auto df = BERTH_TRY(build::parse_dockerfile(text));
  escape_ = df.escape;
  for (const auto& w : df.warnings) say("[WARNING]: " + w + "\n");
  if (df.instructions.empty())
    return make_error(Errc::InvalidArgument, "the Dockerfile ({}) cannot be empty", o_.dockerfile);

  // The instructions to run: ARGs before the first FROM, then the stages up
  // to the target (every stage when there is none).
  std::vector<const build::Instruction*> todo;
  size_t i = 0;
  for (; i < df.instructions.size() && df.instructions[i].keyword != "FROM"; ++i) {
    const auto& in = df.instructions[i];
    if (in.keyword != "ARG")
      return make_error(Errc::InvalidArgument,
                        "Dockerfile parse error on line {}: the first instruction must be FROM "
                        "(only ARG may come before it), found {}",
                        in.line, in.keyword);
    todo.push_back(&in);
  }
  if (i == df.instructions.size())
    return make_error(Errc::InvalidArgument, "No build stage in current context");
  bool reached = o_.target.empty();
  std::string target = ascii_lower(o_.target);
  for (; i < df.instructions.size(); ++i) {
    const auto& in = df.instructions[i];
    if (in.keyword == "FROM" && reached && !o_.target.empty()) break;
    todo.push_back(&in);
    if (in.keyword == "FROM" && in.args.size() >= 3 && ascii_lower(in.args[1]) == "as" &&
        ascii_lower(in.args[2]) == target)
      reached = true;
  }
  if (!reached)
    return make_error(Errc::InvalidArgument, "failed to reach build target {} in Dockerfile",
                      o_.target);
  // --label: docker's classic builder adds them as a last LABEL step.
  std::vector<build::Instruction> extra;
  if (!o_.labels.empty()) {
    build::Instruction l;
    l.keyword = "LABEL";
    l.original = "LABEL";
    for (const auto& [k, v] : o_.labels) {
      // Single-quoted so that expansion leaves them as given.
      auto quote = [](const std::string& x) {
        std::string q = "'";
        for (char c : x) q += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
        return q + "'";
      };
      l.args.push_back(quote(k));
      l.args.push_back(quote(v));
      l.original += fmt::format(" \"{}\"=\"{}\"", k, v);
    }
    extra.push_back(std::move(l));
  }
  steps_ = static_cast<int>(todo.size() + extra.size());

  for (const auto* in : todo) {
    BERTH_TRY(check_cancel());
    ++step_;
    say(fmt::format("Step {}/{} : {}\n", step_, steps_, in->original));
    if (in->keyword == "ARG" && stages_.empty()) {
      for (const auto& a : in->args) {
        auto eq = a.find('=');
        std::string name = a.substr(0, eq);
        std::optional<std::string> v;
        if (eq != std::string::npos)
          v = BERTH_TRY(build::expand_word(a.substr(eq + 1), meta_lookup(), escape_));
        if (auto b = o_.build_args.find(name); b != o_.build_args.end() && b->second) {
          v = b->second;
          used_args_.insert(name);
        }
        meta_args_[name] = v;
      }
      continue;
    }
    if (in->keyword == "FROM") {
      stages_.emplace_back();
      stages_.back().index = static_cast<int>(stages_.size() - 1);
      BERTH_TRY(from(stages_.back(), *in));
      continue;
    }
    BERTH_TRY(dispatch(stages_.back(), *in));
  }
  for (const auto& in : extra) {
    ++step_;
    say(fmt::format("Step {}/{} : {}\n", step_, steps_, in.original));
    BERTH_TRY(dispatch(stages_.back(), in));
  }

  Stage& last = stages_.back();
  BERTH_TRY(ensure_image(last));  // `FROM scratch` alone
  std::vector<std::string> unused;
  for (const auto& [k, v] : o_.build_args)
    if (!used_args_.count(k)) unused.push_back(k);
  if (!unused.empty())
    say(fmt::format("[Warning] One or more build-args [{}] were not consumed\n",
                    join(unused, " ")));
  const Digest id = *last.image;
  if (out_.progress) {
    ProgressEvent aux;
    aux.aux = Json{{"ID", id.str()}};
    out_.progress(aux);
  }
  say(fmt::format("Successfully built {}\n", id.short_id()));
  for (const auto& t : o_.tags) {
    auto ref = BERTH_TRY(oci::Reference::parse(t, true));
    std::string repo = ref.name();
    BERTH_TRY(images_.tag(id.str(), repo, ref.tag() ? *ref.tag() : "latest"));
    say(fmt::format("Successfully tagged {}\n", ref.familiar()));
  }
  drop_dangling_restores(id);
  if (o_.quiet && out_.stream) out_.stream(id.str() + "\n");
  return id;
}

void Build::drop_dangling_restores(const Digest& result) {
  if (restored_.empty()) return;
  // A build that ended on a --cache-from source itself leaves the images
  // restored below it as a chain no image names as its parent (dockerd
  // records the source's parent instead; an image's config, and so its
  // parent, cannot change here). Such leftovers would show as <none>; they
  // go (rmi takes their unused untagged parents along), and a later build
  // restores them again from the source.
  ListFilters f;
  f.all = true;
  f.dangling = true;
  auto dangling = images_.list(f);
  if (!dangling) return;
  for (const auto& img : *dangling)
    if (img.id != result &&
        std::find(restored_.begin(), restored_.end(), img.id) != restored_.end())
      (void)images_.remove(img.id.str(), false, false);
}

Result<Digest> Build::base_image(const std::string& ref) {
  if (!o_.pull) {
    auto have = images_.inspect(ref);
    if (have) return have->summary.id;
    if (have.error().code != Errc::NotFound) return std::move(have).error();
  }
  PullRequest pr;
  pr.reference = ref;
  if (!o_.platform.empty()) pr.platform = BERTH_TRY(Platform::parse(o_.platform));
  auto parsed = BERTH_TRY(oci::Reference::parse(ref, true));
  if (auto a = o_.auth.find(parsed.domain()); a != o_.auth.end()) pr.credentials = a->second;
  pr.cancel = o_.cancel;
  ProgressFn progress = [&](const ProgressEvent& e) {
    if (!o_.quiet && out_.progress) out_.progress(e);
  };
  auto r = BERTH_TRY(images_.pull(pr, progress));
  return r.image_id;
}

Result<void> Build::from(Stage& s, const build::Instruction& in) {
  if (in.args.empty())
    return make_error(Errc::InvalidArgument, "FROM requires at least one argument");
  if (in.args.size() != 1 && !(in.args.size() == 3 && ascii_lower(in.args[1]) == "as"))
    return make_error(Errc::InvalidArgument, "FROM requires either one or three arguments");
  // FROM sees only the ARGs declared before the first FROM.
  std::string base = BERTH_TRY(build::expand_word(in.args[0], meta_lookup(), escape_));
  if (base.empty())
    return make_error(Errc::InvalidArgument, "base name ({}) should not be blank", in.args[0]);
  if (in.args.size() == 3) {
    s.name = ascii_lower(in.args[2]);
    for (const auto& o : stages_)
      if (&o != &s && o.name == s.name)
        return make_error(Errc::InvalidArgument, "duplicate name {}", in.args[2]);
  }
  for (const auto& f : in.flags)
    if (!starts_with(f, "--platform="))
      return make_error(Errc::InvalidArgument, "Unknown flag: {}",
                        f.substr(2, f.find('=') == std::string::npos ? f.npos : f.find('=') - 2));
  const std::string lower = ascii_lower(base);
  const Stage* prev = nullptr;
  for (const auto& o : stages_)
    if (&o != &s && !o.name.empty() && o.name == lower) prev = &o;
  if (prev) {
    s.image = prev->image;
    s.config = prev->config;
    s.author = prev->author;
  } else if (lower == "scratch") {
    s.image.reset();
    s.config = Json::object();
  } else {
    Digest id = BERTH_TRY(base_image(base));
    auto detail = BERTH_TRY(images_.inspect(id.str()));
    s.image = id;
    s.config = detail.config.value("config", Json::object());
    if (!s.config.is_object()) s.config = Json::object();
    s.author = detail.config.value("author", std::string());
  }
  say(s.image ? fmt::format(" ---> {}\n", s.image->short_id()) : " ---> \n");
  // ONBUILD triggers of the base run now, then are gone from the config.
  std::vector<std::string> triggers = strings_of(s.config.value("OnBuild", Json::array()));
  s.config.erase("OnBuild");
  if (!triggers.empty()) {
    say(fmt::format("# Executing {} build trigger{}\n", triggers.size(),
                    triggers.size() == 1 ? "" : "s"));
    for (const auto& t : triggers) {
      auto trig = BERTH_TRY(build::parse_instruction(t, escape_));
      BERTH_TRY(dispatch(s, trig));
    }
  }
  return ok();
}

Result<void> Build::dispatch(Stage& s, const build::Instruction& in) {
  const std::string& kw = in.keyword;
  if (kw == "RUN") return run_step(s, in);
  if (kw == "COPY" || kw == "ADD") return copy_step(s, in);
  if (kw == "WORKDIR") return workdir_step(s, in);
  if (kw == "FROM") return make_error(Errc::InvalidArgument, "FROM is not allowed here");
  return config_only(s, in);
}

Result<void> Build::config_step(Stage& s, const std::string& comment) {
  const std::string created_by = shell_prefix(s) + " #(nop)  " + comment;
  if (BERTH_TRY(cached(s, created_by))) return ok();
  return commit(s, "", created_by);
}

Result<void> Build::config_only(Stage& s, const build::Instruction& in) {
  const std::string& kw = in.keyword;
  const auto env = lookup(s);
  Json& c = s.config;
  if (kw == "ENV" || kw == "LABEL") {
    auto kv = BERTH_TRY(expand_pairs(in, env, escape_));
    if (kv.empty())
      return make_error(Errc::InvalidArgument, "{} requires at least one argument", kw);
    for (const auto& [k, v] : kv) {
      if (kw == "ENV")
        set_env(c, k, v);
      else
        c["Labels"][k] = v;
    }
    return config_step(s, pairs_comment(kw, kv));
  }
  if (kw == "ARG") {
    std::string comment = "ARG";
    for (const auto& a : in.args) {
      auto eq = a.find('=');
      std::string name = a.substr(0, eq);
      std::optional<std::string> v;
      if (eq != std::string::npos) {
        v = BERTH_TRY(build::expand_word(a.substr(eq + 1), env, escape_));
      } else if (auto m = meta_args_.find(name); m != meta_args_.end()) {
        v = m->second;  // a global ARG's value, redeclared in the stage
      }
      if (auto b = o_.build_args.find(name); b != o_.build_args.end() && b->second) v = b->second;
      if (o_.build_args.count(name)) used_args_.insert(name);
      s.args.emplace_back(name, v);
      comment += " " + a;
    }
    return config_step(s, comment);
  }
  if (kw == "CMD" || kw == "ENTRYPOINT") {
    auto cmd = BERTH_TRY(shell_or_exec(s, in));
    c[kw == "CMD" ? "Cmd" : "Entrypoint"] = cmd;
    if (kw == "CMD") s.cmd_set = true;
    // A new ENTRYPOINT drops a CMD inherited from the base (docker).
    if (kw == "ENTRYPOINT" && !s.cmd_set) c["Cmd"] = nullptr;
    return config_step(s, kw + " " + dump_json(Json(cmd)));
  }
  if (kw == "USER" || kw == "STOPSIGNAL") {
    std::string v = BERTH_TRY(build::expand_word(in.args.empty() ? "" : in.args[0], env, escape_));
    if (v.empty()) return make_error(Errc::InvalidArgument, "{} requires exactly one argument", kw);
    c[kw == "USER" ? "User" : "StopSignal"] = v;
    return config_step(s, kw + " " + v);
  }
  if (kw == "EXPOSE") {
    std::vector<std::string> ports;
    // docker splits an expansion here (`EXPOSE $PORTS` with "80 443").
    for (const auto& w : in.args) {
      for (const auto& word : BERTH_TRY(build::expand_words(w, env, escape_))) {
        for (auto& p : BERTH_TRY(exposed(word))) {
          c["ExposedPorts"][p] = Json::object();
          ports.push_back(p);
        }
      }
    }
    if (ports.empty())
      return make_error(Errc::InvalidArgument, "EXPOSE requires at least one argument");
    return config_step(s, "EXPOSE " + join(ports, " "));
  }
  if (kw == "VOLUME") {
    std::vector<std::string> vols;
    for (const auto& w : in.args) {
      std::string v = BERTH_TRY(build::expand_word(w, env, escape_));
      if (trim(v).empty())
        return make_error(Errc::InvalidArgument, "VOLUME specified can not be an empty string");
      c["Volumes"][v] = Json::object();
      vols.push_back(v);
    }
    if (vols.empty())
      return make_error(Errc::InvalidArgument, "VOLUME requires at least one argument");
    return config_step(s, "VOLUME " + dump_json(Json(vols)));
  }
  if (kw == "SHELL") {
    if (!in.json_form || in.args.empty())
      return make_error(Errc::InvalidArgument,
                        "SHELL requires the arguments to be in JSON notation");
    c["Shell"] = in.args;
    return config_step(s, "SHELL " + dump_json(Json(in.args)));
  }
  if (kw == "MAINTAINER") {
    s.author = in.args.empty() ? "" : in.args[0];
    return config_step(s, "MAINTAINER " + s.author);
  }
  if (kw == "ONBUILD") {
    std::string t = in.args.empty() ? "" : in.args[0];
    auto trig = BERTH_TRY(build::parse_instruction(t, escape_));
    if (trig.keyword == "ONBUILD" || trig.keyword == "FROM" || trig.keyword == "MAINTAINER")
      return make_error(Errc::InvalidArgument, "{} isn't allowed as an ONBUILD trigger",
                        trig.keyword);
    // Stored with the keyword upper-cased, as docker does.
    std::string stored = upper(trig.keyword) + std::string(trim(t).substr(trig.keyword.size()));
    c["OnBuild"].push_back(stored);
    return config_step(s, "ONBUILD " + stored);
  }
  if (kw == "HEALTHCHECK") {
    Json hc = Json::object();
    if (in.args.empty())
      return make_error(Errc::InvalidArgument, "HEALTHCHECK requires at least one argument");
    std::string what = upper(in.args[0]);
    if (what == "NONE") {
      if (in.args.size() > 1 || !in.flags.empty())
        return make_error(Errc::InvalidArgument, "HEALTHCHECK NONE takes no arguments");
      hc["Test"] = Json::array({"NONE"});
    } else if (what == "CMD") {
      std::vector<std::string> rest(in.args.begin() + 1, in.args.end());
      if (rest.empty())
        return make_error(Errc::InvalidArgument, "Missing command after HEALTHCHECK CMD");
      Json test = Json::array({in.json_form ? "CMD" : "CMD-SHELL"});
      for (auto& r : rest) test.push_back(r);
      hc["Test"] = test;
      for (const auto& f : in.flags) {
        auto eq = f.find('=');
        std::string name = f.substr(2, eq == std::string::npos ? f.npos : eq - 2);
        std::string val = eq == std::string::npos ? "" : f.substr(eq + 1);
        if (name == "retries") {
          auto n = parse_int(val);
          if (!n || *n < 0)
            return make_error(Errc::InvalidArgument, "--retries cannot be negative ({})", val);
          hc["Retries"] = *n;
          continue;
        }
        static const std::map<std::string, std::string> kDur = {
            {"interval", "Interval"},
            {"timeout", "Timeout"},
            {"start-period", "StartPeriod"},
            {"start-interval", "StartInterval"}};
        auto k = kDur.find(name);
        if (k == kDur.end()) return make_error(Errc::InvalidArgument, "Unknown flag: {}", name);
        auto d = parse_go_duration(val);
        if (!d) return make_error(Errc::InvalidArgument, "time: invalid duration \"{}\"", val);
        if (*d != 0 && *d < 1'000'000)
          return make_error(Errc::InvalidArgument, "Interval \"{}\" cannot be less than 1ms", name);
        hc[k->second] = *d;
      }
    } else {
      return make_error(Errc::InvalidArgument, "Unknown type \"{}\" in HEALTHCHECK (try CMD)",
                        in.args[0]);
    }
    c["Healthcheck"] = hc;
    return config_step(s, "HEALTHCHECK &{" + dump_json(hc["Test"]) + "}");
  }
  return make_error(Errc::InvalidArgument, "unknown instruction: {}", kw);
}

}  // namespace builder

Result<Digest> build_image(ContainerService& containers, ImageService& images,
                           const std::string& context_dir, const std::string& scratch_dir,
                           const BuildOptions& o, const BuildSink& out) {
  builder::Build b(containers, images, context_dir, scratch_dir, o, out);
  return b.run();
}

}  // namespace berth::engine
