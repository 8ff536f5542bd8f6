// engine/spec_builder.h — a container's OCI runtime spec (bundle/config.json)
// from its Config + HostConfig, with docker's defaults.
//
// build_spec is pure apart from the few host facts it needs (device nodes for
// --device/--privileged, the host's capability count, the host's nofile hard
// limit), all of which can be supplied in SpecInput for tests. What it does:
//  - capabilities: docker's default set, --cap-add/--cap-drop (ALL, with or
//    without CAP_, any case; unknown -> InvalidArgument `unknown capability:
//    "CAP_FOO"`), --privileged = every capability the kernel knows;
//    bounding = effective = permitted, inheritable and ambient empty.
//  - seccomp: docker's default profile filtered by the capabilities
//    (seccomp_default.h), a "seccomp=<profile JSON>" security opt, or none
//    for "seccomp=unconfined" and --privileged.
//  - namespaces pid ipc uts mount network (+cgroup per cgroupns mode);
//    "host" modes drop the namespace; "container:x" modes join the path the
//    engine put in SpecInput::join_namespaces.
//  - mounts: proc, /dev tmpfs, devpts, /dev/shm (64 MiB or --shm-size),
//    mqueue, sysfs (ro unless privileged), cgroup (ro unless privileged), the
//    hostname/hosts/resolv.conf binds, --tmpfs, volumes and binds
//    (SpecInput::volume_mounts), berth-init for --init.
//  - masked/read-only paths: docker's defaults (none with --privileged or
//    "systempaths=unconfined"; HostConfig overrides when set).
//  - rlimits: --ulimit; default RLIMIT_NOFILE 1024:524288 with both values
//    capped at the host's hard limit (never an error).
//  - resources with docker's validation and messages (memory, memory-swap
//    incl. -1 and the 2x default, cpus, shares, cpuset, pids, blkio weight,
//    devices, device cgroup rules, docker's default device allow list).
//  - sysctls: only namespaced ones (IPC, net.* with a private netns,
//    kernel.domainname/hostname with a private uts ns).
//  - process: user resolved through the image's /etc/passwd and /etc/group
//    (user_lookup.h), env (PATH default, HOSTNAME, TERM with a TTY, HOME from
//    passwd), cwd, args = entrypoint + cmd (config must be merged already,
//    see merge_image_config), --init prepended, oom_score_adj,
//    no-new-privileges, no AppArmor.
// Validation errors are InvalidArgument and name the flag or field.
// Depends on: base, oci, cgroups (Version), engine/container_types.h,
// engine/user_lookup.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "cgroups/manager.h"
#include "engine/container_types.h"
#include "engine/containers.h"
#include "engine/user_lookup.h"
#include "oci/image_spec.h"
#include "oci/spec.h"

namespace berth::engine {

// Where --init's binary appears inside the container (docker's path).
inline constexpr const char* kInitPathInContainer = "/sbin/docker-init";
inline constexpr int64_t kDefaultShmSize = 64 * 1024 * 1024;
inline constexpr uint64_t kDefaultNofileSoft = 1024;
inline constexpr uint64_t kDefaultNofileHard = 524288;
inline constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct SpecInput {
  std::string id;          // full 64-hex container id (hostname = first 12)
  ContainerConfig config;  // after merge_image_config
  HostConfig host_config;
  // Reads /etc/passwd and /etc/group of the container's root (layered_reader
  // or root_fd_reader from user_lookup.h). Empty: no files (numeric users
  // only; names fail with docker's "unable to find user" message).
  RootfsFileReader rootfs_reader;
  std::string rootfs_path = "rootfs";  // root.path (relative to the bundle)
  // Host files bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf
  // (hosts_files.h writes them). Empty = not mounted.
  std::string hostname_path, hosts_path, resolv_conf_path;
  std::string init_path;  // berth-init on the host; required when --init
  // Host hard RLIMIT_NOFILE; 0 = read getrlimit(RLIMIT_NOFILE) of this process.
  uint64_t host_nofile_hard = 0;
  cgroups::Version cgroup_version = cgroups::Version::V2;
  std::string cgroup_parent = "/berth";  // daemon default; HostConfig's wins
  // Default seccomp profile JSON (daemon option); "" = built-in docker profile.
  std::string default_seccomp_profile;
  std::string arch;  // Go arch ("amd64", "arm64"); "" = the host's
  // Highest capability number of the kernel; -1 = read
  // /proc/sys/kernel/cap_last_cap and grant only what this daemon's own
  // bounding set holds (privileged / ALL get those).
  int cap_last_cap = -1;
  // Namespace type ("pid", "ipc", "network", "uts", "cgroup") -> path to join
  // (e.g. /proc/<pid>/ns/ipc) for "container:x" modes, resolved by the engine.
  std::map<std::string, std::string> join_namespaces;
  // A host directory (a tmpfs the engine mounted) bound at /dev/shm instead
  // of a tmpfs of the container's own: a "shareable" IPC container's, which
  // the containers that join its IPC namespace bind too. "" = own tmpfs.
  std::string shm_path;
  // The network namespace berthd made for the container (network_manager.h);
  // joined instead of a new one for bridge and user network modes. "" = a
  // new, empty namespace (loopback only).
  std::string netns_path;
  std::string host_dev_dir = "/dev";  // device nodes for --device / --privileged
  // The container's volumes and binds (mount_plan.h oci_mounts); like
  // --tmpfs they replace a default or hosts-file mount at their destination.
  std::vector<oci::Mount> volume_mounts;
};

// Builds the spec. Errors: InvalidArgument naming the flag/field; NotFound
// for users/groups missing in the image (docker's messages).
Result<oci::Spec> build_spec(const SpecInput& in);

// Create-time checks of the namespace modes against the options they exclude,
// on the config as requested (before the image's and berth's defaults), with
// docker's messages: --uts host with a hostname; --network container:x with
// a hostname, --link, --dns, --add-host, published or exposed ports; --network
// host with --link; a "container:" mode without a name.
Result<void> check_namespace_conflicts(const ContainerConfig& requested, const HostConfig& hc);

// Whether the resources name block devices by path (per-device weights or
// throttles): their major:minor is looked up again at every start, since a
// device's numbers can change across reboots.
bool has_block_io_devices(const Resources& r);

// docker's create-time merge of the image config into the container config:
// env (the container's entries, then the image's whose key it lacks), cmd and
// entrypoint (a container entrypoint drops the image cmd unless cmd is
// given; entrypoint {} or {""} resets to none), user, working dir, labels,
// stop signal, healthcheck (field by field), exposed ports, volumes, shell.
// `raw_config` is the image config's "config" object as JSON (for the docker
// extensions Healthcheck, Shell, OnBuild, ArgsEscaped; may be null).
// Returns InvalidArgument "No command specified" when the result has neither.
Result<void> merge_image_config(ContainerConfig& c, const oci::ContainerConfig& image,
                                const Json* raw_config = nullptr);

// The process of `docker exec`, derived from the container's spec process:
// user = exec's -u resolved through `read` (the running container's root),
// else the container's; env = the container's process env with the exec's
// "K=V" entries overriding by key; cwd = exec's -w, else the container's;
// --privileged = every capability; rlimits, no_new_privileges, apparmor and
// oom_score_adj as the container. InvalidArgument "No exec command
// specified" for an empty cmd (docker's message).
Result<oci::Process> build_exec_process(const oci::Process& container, const ExecConfig& exec,
                                        const RootfsFileReader& read, int cap_last_cap = -1);

// The capability list ("CAP_CHOWN" form) docker computes for the flags; the
// engine also uses it for exec --privileged (privileged = true). Only
// capabilities 0..cap_last_cap whose bit is set in `grantable` can be had:
// --privileged and ALL get all of those, defaults outside them are left
// out, and one named in cap_add outside them is an InvalidArgument error
// naming it (even when also dropped: docker's add wins over a drop).
// cap_last_cap < 0 (auto): the kernel's last capability and this process's
// own bounding set (`grantable` unused).
Result<std::vector<std::string>> container_capabilities(const std::vector<std::string>& cap_add,
                                                        const std::vector<std::string>& cap_drop,
                                                        bool privileged, int cap_last_cap = -1,
                                                        uint64_t grantable = ~0ull);

// linux.cgroupsPath for a container: "<parent>/<id>" made absolute
// ("/berth/<id>" by default). The engine passes the same to stats_reader.
std::string container_cgroups_path(const std::string& cgroup_parent, const std::string& id);

// Env for the process (docker's order): PATH default when absent, HOSTNAME,
// TERM=xterm with a tty, then the config env, HOME from the user when unset.
std::vector<std::string> process_env(const std::vector<std::string>& config_env,
                                     const std::string& hostname, bool tty,
                                     const std::string& home);

}  // namespace berth::engine
