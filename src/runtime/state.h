// runtime/state.h — what the runtime remembers about a container between
// invocations: <root>/<id>/state.json (written temp+fsync+rename) and the
// validated spec in <root>/<id>/config.json. The status is never stored: it
// is derived from the live process (pid + start time, so a recycled pid is
// not mistaken for the container), the exec fifo and the freezer.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// runc's rule: letters, digits, '_', '+', '-', '.', not "." or "..", at most
// 1024 bytes. Messages name the id.
Result<void> validate_container_id(const std::string& id);

struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  int pid = 0;
  unsigned long long start_time = 0;
  std::string created;  // RFC 3339
  std::string owner;
  std::string cgroups_path;  // as resolved at create time
  bool no_pivot = false;
  std::map<std::string, std::string> annotations;
  // Whether the spec has poststart / poststop hooks: `start` and `delete`
  // read the stored spec only then. True when unknown (a record written
  // before the field).
  bool poststart_hooks = true;
  bool poststop_hooks = true;
};

enum class Status { Creating, Created, Running, Paused, Stopped };
const char* status_name(Status s);

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string fifo_path(const std::string& id) const { return dir(id) + "/exec.fifo"; }

  // mkdir <root>/<id> and flock it; AlreadyExists "container with id
  // exists: ID". The returned fd holds the lock for the whole create: a
  // directory without state.json whose lock is free was left by a create
  // that was killed, and is taken over (its files removed) instead of
  // blocking the id forever.
  Result<Fd> reserve(const std::string& id);
  Result<void> save(const ContainerRecord& r, const oci::Spec& spec);
  // The same, with the spec as config.json text that parses to it.
  Result<void> save(const ContainerRecord& r, std::string_view spec_json);
  // NotFound "container does not exist: ID" (runc's text).
  Result<ContainerRecord> load(const std::string& id) const;
  Result<oci::Spec> load_spec(const std::string& id) const;
  Result<void> remove(const std::string& id);
  Result<std::vector<std::string>> list_ids() const;

 private:
  std::string root_;
};

// Whether the record's process still exists and is the same process.
bool process_alive(const ContainerRecord& r);

}  // namespace berth::runtime
