#include "api/types/system.h"

#include "api/types/time.h"

namespace berth::api {

std::string error_body(std::string_view message) {
  return dump_json(OrderedJson{{"message", message}});
}

OrderedJson encode_version(const VersionInfo& v) {
  OrderedJson j = OrderedJson::object();
  j["Platform"] = {{"Name", "Berth Engine"}};
  OrderedJson details = {{"ApiVersion", kMaxApiVersion.str()},
                         {"Arch", v.arch},
                         {"BuildTime", v.build_time},
                         {"Experimental", v.experimental ? "true" : "false"},
                         {"GitCommit", v.git_commit},
                         {"GoVersion", "n/a"},
                         {"KernelVersion", v.kernel_version},
                         {"MinAPIVersion", kMinApiVersion.str()},
                         {"Os", v.os}};
  j["Components"] =
      OrderedJson::array({{{"Name", "Engine"}, {"Version", v.version}, {"Details", details}}});
  j["Version"] = v.version;
  j["ApiVersion"] = kMaxApiVersion.str();
  j["MinAPIVersion"] = kMinApiVersion.str();
  j["GitCommit"] = v.git_commit;
  j["GoVersion"] = "n/a";
  j["Os"] = v.os;
  j["Arch"] = v.arch;
  j["KernelVersion"] = v.kernel_version;
  // Both omitempty in docker's types.Version, Experimental first.
  if (v.experimental) j["Experimental"] = true;
  if (!v.build_time.empty()) j["BuildTime"] = v.build_time;
  return j;
}

OrderedJson encode_info(const SystemInfo& i, ApiVersion v) {
  OrderedJson j = OrderedJson::object();
  j["ID"] = i.id;
  j["Containers"] = i.containers;
  j["ContainersRunning"] = i.containers_running;
  j["ContainersPaused"] = i.containers_paused;
  j["ContainersStopped"] = i.containers_stopped;
  j["Images"] = i.images;
  j["Driver"] = i.driver;
  j["DriverStatus"] = OrderedJson::array();
  j["Plugins"] = {{"Volume", OrderedJson::array({"local"})},
                  {"Network", OrderedJson::array({"bridge", "host", "none"})},
                  {"Authorization", nullptr},
                  {"Log", OrderedJson::array({"json-file", "local"})}};
  j["MemoryLimit"] = true;
  j["SwapLimit"] = true;
  j["CpuCfsPeriod"] = true;
  j["CpuCfsQuota"] = true;
  j["CPUShares"] = true;
  j["CPUSet"] = true;
  j["PidsLimit"] = true;
  j["IPv4Forwarding"] = true;
  j["BridgeNfIptables"] = false;
  j["BridgeNfIp6tables"] = false;
  j["Debug"] = i.debug;
  j["NFd"] = 0;
  j["OomKillDisable"] = false;
  j["NGoroutines"] = 0;
  j["SystemTime"] = i.system_time;
  j["LoggingDriver"] = i.logging_driver;
  j["CgroupDriver"] = i.cgroup_driver;
  j["CgroupVersion"] = i.cgroup_version;
  j["NEventsListener"] = 0;
  j["KernelVersion"] = i.kernel_version;
  j["OperatingSystem"] = i.operating_system;
  j["OSVersion"] = i.os_version;
  j["OSType"] = i.os_type;
  j["Architecture"] = i.architecture;
  j["IndexServerAddress"] = i.index_server_address;
  OrderedJson index_configs = OrderedJson::object();
  OrderedJson hub_mirrors = OrderedJson::array();
  if (auto it = i.registry.mirrors.find("docker.io"); it != i.registry.mirrors.end())
    for (const auto& m : it->second) hub_mirrors.push_back(m);
  index_configs["docker.io"] = {
      {"Name", "docker.io"}, {"Mirrors", hub_mirrors}, {"Secure", true}, {"Official", true}};
  for (const auto& h : i.registry.insecure_hosts) {
    OrderedJson mirrors = OrderedJson::array();
    if (auto it = i.registry.mirrors.find(h); it != i.registry.mirrors.end())
      for (const auto& m : it->second) mirrors.push_back(m);
    index_configs[h] = {{"Name", h}, {"Mirrors", mirrors}, {"Secure", false}, {"Official", false}};
  }
  sort_members(index_configs);  // a map in docker's types
  OrderedJson cidrs = OrderedJson::array();
  for (const auto& c : i.registry.insecure_registry_cidrs) cidrs.push_back(c);
  j["RegistryConfig"] = {{"AllowNondistributableArtifactsCIDRs", nullptr},
                         {"AllowNondistributableArtifactsHostnames", nullptr},
                         {"InsecureRegistryCIDRs", cidrs},
                         {"IndexConfigs", index_configs},
                         {"Mirrors", hub_mirrors}};
  // berth extension: mirrors of every registry (docker only mirrors docker.io).
  OrderedJson by_host = OrderedJson::object();
  for (const auto& [host, urls] : i.registry.mirrors) by_host[host] = urls;
  j["RegistryConfig"]["MirrorsByHost"] = by_host;
  j["NCPU"] = i.ncpu;
  j["MemTotal"] = i.mem_total;
  j["GenericResources"] = nullptr;
  j["DockerRootDir"] = i.docker_root_dir;
  j["HttpProxy"] = i.http_proxy;
  j["HttpsProxy"] = i.https_proxy;
  j["NoProxy"] = i.no_proxy;
  j["Name"] = i.name;
  OrderedJson labels = OrderedJson::array();
  for (const auto& [k, val] : i.labels) labels.push_back(k + "=" + val);
  j["Labels"] = labels;
  j["ExperimentalBuild"] = false;
  j["ServerVersion"] = i.server_version;
  OrderedJson runtimes = OrderedJson::object();
  for (const auto& [name, path] : i.runtimes) runtimes[name] = {{"path", path}};
  j["Runtimes"] = runtimes;
  j["DefaultRuntime"] = i.default_runtime;
  j["Swarm"] = {{"NodeID", ""},
                {"NodeAddr", ""},
                {"LocalNodeState", "inactive"},
                {"ControlAvailable", false},
                {"Error", ""},
                {"RemoteManagers", nullptr}};
  // Containers outlive berthd always (each has its own monitor): docker's
  // --live-restore, on for good.
  j["LiveRestoreEnabled"] = true;
  j["Isolation"] = "";
  j["InitBinary"] = "";
  j["ContainerdCommit"] = {{"ID", ""}, {"Expected", ""}};
  j["RuncCommit"] = {{"ID", ""}, {"Expected", ""}};
  j["InitCommit"] = {{"ID", ""}, {"Expected", ""}};
  j["SecurityOptions"] = OrderedJson::array({"name=seccomp,profile=builtin"});
  if (i.cgroup_version == "2") j["SecurityOptions"].push_back("name=cgroupns");
  if (v >= ApiVersion{1, 44}) j["CDISpecDirs"] = OrderedJson::array();
  j["Warnings"] = i.warnings.empty() ? OrderedJson(nullptr) : OrderedJson(i.warnings);
  return j;
}

OrderedJson encode_disk_usage(const DiskUsage& d, ApiVersion v) {
  OrderedJson images = OrderedJson::array();
  for (const auto& s : d.images) images.push_back(encode_image_summary(s, v));
  OrderedJson j = OrderedJson::object();
  j["LayersSize"] = d.with_images ? d.layers_size : 0;
  j["Images"] = d.with_images ? images : OrderedJson(nullptr);
  OrderedJson containers = OrderedJson::array();
  int64_t now = now_unix_ns();
  for (const auto& c : d.containers) containers.push_back(encode_container_summary(c, v, now));
  j["Containers"] = d.with_containers ? containers : OrderedJson(nullptr);
  OrderedJson volumes = OrderedJson::array();
  for (const auto& vol : d.volumes) volumes.push_back(encode_volume(vol));
  j["Volumes"] = d.with_volumes ? volumes : OrderedJson(nullptr);
  j["BuildCache"] = d.with_build_cache ? OrderedJson::array() : OrderedJson(nullptr);
  // Deprecated in 1.42 (the build cache's rows replace it); older clients
  // read it. No builder, so no cache: 0.
  if (v < ApiVersion{1, 42}) j["BuilderSize"] = 0;
  return j;
}

}  // namespace berth::api
