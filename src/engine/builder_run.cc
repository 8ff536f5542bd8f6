// RUN, and what every step that needs a container shares: the container of
// the current image, its commit as the stage's next image, its removal, and
// the build cache lookup.
#include "base/scope_exit.h"
#include "base/strings.h"
#include "engine/builder_internal.h"

namespace berth::engine::builder {

std::string Build::shell_prefix(const Stage& s) const {
  auto sh = strings_of(s.config.value("Shell", Json::array()));
  return sh.empty() ? "/bin/sh -c" : join(sh, " ");
}

Result<void> Build::ensure_image(Stage& s) {
  if (s.image) return ok();
  // Containers and the cache need an image: scratch becomes one with no
  // layers, always the same one (its config is fixed), so a scratch stage's
  // steps hit the cache like any other's.
  CommitRequest req;
  req.config = Json::object();
  req.no_history = true;
  req.blank = true;
  s.image = BERTH_TRY(images_.commit_container(req));
  return ok();
}

Result<bool> Build::cached(Stage& s, const std::string& created_by) {
  if (o_.no_cache) return false;
  BERTH_TRY(ensure_image(s));
  auto hit = BERTH_TRY(images_.find_build_cache(*s.image, created_by, s.config));
  for (size_t i = 0; !hit && i < cache_sources_.size(); ++i) {
    const Digest src = cache_sources_[i];
    auto r = images_.restore_build_cache(*s.image, src, created_by, s.config);
    // A source removed since the build began is no cache any more.
    if (!r && r.error().code == Errc::NotFound) continue;
    hit = BERTH_TRY(std::move(r));
    if (hit) cache_sources_ = {src};
    if (hit && *hit != src) restored_.push_back(*hit);
  }
  if (!hit) return false;
  s.image = *hit;
  say(fmt::format(" ---> Using cache\n ---> {}\n", hit->short_id()));
  return true;
}

Result<Digest> Build::commit_image(const Stage& s, const std::string& container,
                                   const std::string& created_by) {
  CommitRequest req;
  req.container_id = container;
  if (s.image) req.parent = *s.image;
  req.config = s.config;
  req.author = s.author;
  req.created_by = created_by;
  return images_.commit_container(req);
}

Result<void> Build::commit(Stage& s, const std::string& container, const std::string& created_by) {
  s.image = BERTH_TRY(commit_image(s, container, created_by));
  say(fmt::format(" ---> {}\n", s.image->short_id()));
  return ok();
}

Result<std::string> Build::step_container(Stage& s, const Json& config,
                                          const std::vector<std::string>& cmd,
                                          const std::vector<std::string>& extra_env) {
  BERTH_TRY(ensure_image(s));
  CreateRequest req;
  req.config.image = s.image->str();
  req.config.cmd = cmd;
  req.config.entrypoint = std::vector<std::string>{};  // the image's does not apply
  req.config.user = config.value("User", std::string());
  req.config.working_dir = config.value("WorkingDir", std::string());
  req.config.env = extra_env;
  req.config.attach_stdout = req.config.attach_stderr = true;
  // The image's health check and stop signal do not apply to a step.
  HealthcheckConfig none;
  none.test = {"NONE"};
  req.config.healthcheck = none;
  req.host_config.network_mode = o_.network_mode;
  req.host_config.extra_hosts = o_.extra_hosts;
  req.host_config.resources = o_.resources;
  req.host_config.shm_size = o_.shm_size;
  req.host_config.log_config.type = "json-file";
  auto r = BERTH_TRY(containers_.create(req));
  return r.id;
}

void Build::remove_container(const std::string& id, bool failed) {
  if (id.empty()) return;
  // docker's rm: after a step that worked; forcerm: always.
  if (!(o_.force_remove || (o_.remove && !failed))) return;
  if (!failed && !o_.quiet)
    say(fmt::format("Removing intermediate container {}\n", id.substr(0, 12)));
  // Its anonymous volumes (the image's VOLUMEs) go with it, as docker's
  // builder removes them.
  (void)containers_.remove(id, true, true);
}

Result<void> Build::run_step(Stage& s, const build::Instruction& in) {
  auto cmd = BERTH_TRY(shell_or_exec(s, in));
  if (cmd.empty() || (cmd.size() == 1 && cmd[0].empty()))
    return make_error(Errc::InvalidArgument, "RUN requires at least one argument");
  const std::vector<std::string> args_env = run_args_env(s);
  // docker's history line: the build args it ran with, "|2 A=1 B=2 ", then
  // the command.
  std::string created_by;
  if (!args_env.empty()) created_by = fmt::format("|{} {} ", args_env.size(), join(args_env, " "));
  created_by += join(cmd, " ");
  if (BERTH_TRY(cached(s, created_by))) return ok();

  std::string id = BERTH_TRY(step_container(s, s.config, cmd, args_env));
  say(fmt::format(" ---> Running in {}\n", id.substr(0, 12)));
  bool failed = true;
  ScopeExit cleanup([&] { remove_container(id, failed); });

  BERTH_TRY(containers_.start(id, nullptr));
  LogsOptions lo;
  lo.follow = true;
  lo.stdout = lo.stderr = true;
  auto gone = [this] { return o_.cancel && o_.cancel->load(); };
  BERTH_TRY(containers_.logs(
      id, lo,
      [this](int, std::string_view data) -> Result<void> {
        say(data);
        return ok();
      },
      gone));
  if (gone()) {
    (void)containers_.kill(id, "KILL");
    return make_error(Errc::Cancelled, "build cancelled");
  }
  auto w = BERTH_TRY(containers_.wait(id, "not-running", gone));
  if (!w.error.empty())
    return make_error(Errc::Internal, "The command '{}' could not run: {}", join(cmd, " "),
                      w.error);
  if (w.status_code != 0)
    return make_error(Errc::Internal, "The command '{}' returned a non-zero code: {}",
                      join(cmd, " "), w.status_code);
  failed = false;
  return commit_and_remove(s, id, created_by);
}

Result<void> Build::commit_and_remove(Stage& s, std::string& container,
                                      const std::string& created_by) {
  // docker's output names the removal before the new image's id.
  auto img = BERTH_TRY(commit_image(s, container, created_by));
  remove_container(container, false);
  container.clear();  // removed: the caller's cleanup has nothing left to do
  s.image = img;
  say(fmt::format(" ---> {}\n", s.image->short_id()));
  return ok();
}

}  // namespace berth::engine::builder
