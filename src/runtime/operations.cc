// state, list, kill, delete, pause, resume, ps, update (runtime/container.h).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "base/log.h"
#include "oci/spec_codec.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/hooks.h"
#include "sys/syscalls.h"

namespace berth::runtime {

std::string cgroups_path_for(const oci::Spec& spec, const std::string& id) {
  if (spec.linux && !spec.linux->cgroups_path.empty()) return spec.linux->cgroups_path;
  return "/berth/" + id;
}

Result<std::unique_ptr<cgroups::Manager>> make_cgroup_at(const std::string& path,
                                                         const std::string& id) {
  // Mount points of the hierarchies do not change during one runtime
  // command; read mountinfo once per process, not once per operation.
  static std::optional<cgroups::Layout> layout;
  if (!layout) layout = BERTH_TRY(cgroups::detect_layout());
  return cgroups::make_manager(*layout, path, id);
}

Result<std::unique_ptr<cgroups::Manager>> make_cgroup(const oci::Spec& spec,
                                                      const std::string& id) {
  return make_cgroup_at(cgroups_path_for(spec, id), id);
}

Result<std::vector<std::string>> Runtime::memory_cgroup_dirs(const std::string& cgroups_path,
                                                             const std::string& id) {
  auto cg = BERTH_TRY(make_cgroup_at(cgroups_path, id));
  std::vector<std::string> out;
  for (const auto& [controller, dir] : cg->paths())
    if (controller == "memory" || controller.empty()) out.push_back(dir);
  return out;
}

Result<ContainerInfo> Runtime::info(const std::string& id) const {
  ContainerInfo ci;
  ci.record = BERTH_TRY(store_.load(id));
  if (!process_alive(ci.record)) {
    ci.status = Status::Stopped;
    return ci;
  }
  if (::access(store_.fifo_path(id).c_str(), F_OK) == 0) {
    ci.status = Status::Created;
    return ci;
  }
  ci.status = Status::Running;
  auto cg = make_cgroup_at(ci.record.cgroups_path, id);
  if (cg) {
    auto fs = (*cg)->freezer_state();
    if (fs && *fs != cgroups::FreezerState::Thawed) ci.status = Status::Paused;
  }
  return ci;
}

Result<Json> Runtime::state_json(const std::string& id) const {
  ContainerInfo ci = BERTH_TRY(info(id));
  oci::State s;
  s.id = id;
  s.status = status_name(ci.status);
  s.pid = ci.status == Status::Stopped ? 0 : ci.record.pid;
  s.bundle = ci.record.bundle;
  s.annotations = ci.record.annotations;
  Json j = oci::state_to_json(s);
  j["rootfs"] = ci.record.rootfs;
  j["created"] = ci.record.created;
  j["owner"] = ci.record.owner;
  return j;
}

Result<std::vector<ContainerInfo>> Runtime::list() const {
  std::vector<ContainerInfo> out;
  for (const auto& id : BERTH_TRY(store_.list_ids())) {
    auto ci = info(id);
    if (ci) out.push_back(std::move(*ci));
  }
  return out;
}

Result<std::vector<pid_t>> Runtime::pids(const std::string& id) const {
  ContainerRecord rec = BERTH_TRY(store_.load(id));
  auto cg = BERTH_TRY(make_cgroup_at(rec.cgroups_path, id));
  return cg->pids();
}

Result<void> Runtime::kill(const std::string& id, int sig, bool all) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if (ci.status == Status::Stopped && !all)
    return make_error(Errc::FailedPrecondition, "container not running");
  if (all) {
    auto cg = BERTH_TRY(make_cgroup_at(ci.record.cgroups_path, id));
    for (pid_t p : BERTH_TRY(cg->pids())) ::kill(p, sig);
    // Frozen tasks cannot act on a signal until thawed.
    if (ci.status == Status::Paused && (sig == SIGKILL || sig == SIGTERM)) {
      [[maybe_unused]] auto r = cg->thaw();
    }
    return ok();
  }
  // Signal through a pidfd checked against the recorded start time, so a
  // recycled pid is never signalled.
  Fd pfd = BERTH_TRY(sys::pidfd_open(ci.record.pid));
  if (!process_alive(ci.record))
    return make_error(Errc::FailedPrecondition, "container not running");
  return sys::pidfd_send_signal(pfd.get(), sig);
}

namespace {

// Polls until `pid` is gone (bounded), as the caller is not its parent.
bool wait_gone(const ContainerRecord& rec, std::chrono::milliseconds limit) {
  auto pfd = sys::pidfd_open(rec.pid);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (process_alive(rec)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (pfd) {
      struct pollfd p = {pfd->get(), POLLIN, 0};
      ::poll(&p, 1, 20);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return true;
}

}  // namespace

Result<void> Runtime::remove(const std::string& id, bool force) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if ((ci.status == Status::Running || ci.status == Status::Paused) && !force)
    return make_error(Errc::FailedPrecondition,
                      "cannot delete container {} that is not stopped: {}", id,
                      status_name(ci.status));
  // Only a spec with poststop hooks is read (parsing it costs more than the
  // rest of a delete).
  std::optional<oci::Spec> spec;
  if (ci.record.poststop_hooks)
    if (auto s = store_.load_spec(id)) spec = std::move(*s);
  auto cg = make_cgroup_at(ci.record.cgroups_path, id);
  if (ci.status != Status::Stopped) {
    if (cg) {
      if (auto p = (*cg)->pids())
        for (pid_t x : *p) ::kill(x, SIGKILL);
      [[maybe_unused]] auto r = (*cg)->thaw();
    }
    ::kill(ci.record.pid, SIGKILL);
    if (!wait_gone(ci.record, std::chrono::seconds(10)))
      return make_error(Errc::DeadlineExceeded, "container {} did not exit after SIGKILL", id);
  }
  if (cg) {
    // Tasks leave the cgroup as they exit; give stragglers a moment.
    Result<void> d = (*cg)->destroy();
    for (int i = 0; i < 100 && !d; ++i) {
      if (auto p = (*cg)->pids())
        for (pid_t x : *p) ::kill(x, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      d = (*cg)->destroy();
    }
    if (!d) return d.error().context("remove cgroup");
  }
  if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
    oci::State s;
    s.id = id;
    s.status = "stopped";
    s.bundle = ci.record.bundle;
    s.annotations = ci.record.annotations;
    run_hooks_warn(spec->hooks->poststop, dump_json(oci::state_to_json(s)), "poststop");
  }
  return store_.remove(id);
}

Result<void> Runtime::pause(const std::string& id) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if (ci.status != Status::Running)
    return make_error(Errc::FailedPrecondition, "container not running");
  auto cg = BERTH_TRY(make_cgroup_at(ci.record.cgroups_path, id));
  return cg->freeze();
}

Result<void> Runtime::resume(const std::string& id) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if (ci.status != Status::Paused)
    return make_error(Errc::FailedPrecondition, "container not paused");
  auto cg = BERTH_TRY(make_cgroup_at(ci.record.cgroups_path, id));
  return cg->thaw();
}

Result<void> Runtime::update(const std::string& id, const oci::Resources& r) {
  ContainerInfo ci = BERTH_TRY(info(id));
  if (ci.status == Status::Stopped)
    return make_error(Errc::FailedPrecondition, "container not running");
  oci::Spec spec = BERTH_TRY(store_.load_spec(id));
  auto cg = BERTH_TRY(make_cgroup_at(ci.record.cgroups_path, id));
  BERTH_TRY(cg->set(r));
  // Remember the new values so a later `update` or `state` sees them.
  oci::Resources& cur =
      spec.linux->resources ? *spec.linux->resources : spec.linux->resources.emplace();
  if (r.memory) {
    auto& m = cur.memory ? *cur.memory : cur.memory.emplace();
    if (r.memory->limit) m.limit = r.memory->limit;
    if (r.memory->reservation) m.reservation = r.memory->reservation;
    if (r.memory->swap) m.swap = r.memory->swap;
  }
  if (r.cpu) {
    auto& c = cur.cpu ? *cur.cpu : cur.cpu.emplace();
    if (r.cpu->shares) c.shares = r.cpu->shares;
    if (r.cpu->quota) c.quota = r.cpu->quota;
    if (r.cpu->period) c.period = r.cpu->period;
    if (!r.cpu->cpus.empty()) c.cpus = r.cpu->cpus;
    if (!r.cpu->mems.empty()) c.mems = r.cpu->mems;
  }
  if (r.pids) cur.pids = r.pids;
  if (r.block_io) cur.block_io = r.block_io;
  return store_.save(ci.record, spec);
}

}  // namespace berth::runtime
