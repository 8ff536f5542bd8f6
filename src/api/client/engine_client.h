// api/client/engine_client.h — typed Docker Engine API client used by the
// `berth` CLI; speaks to berthd and to dockerd alike.
//
// Address: Options::host, else $DOCKER_HOST, else unix:///run/berth/berth.sock.
// API version: $DOCKER_API_VERSION / Options::api_version when set (no
// negotiation). Else the first plain call (call()) is sent as 1.47 and only
// a daemon that refuses it as too new makes the client negotiate: GET /_ping
// and use min(server's API-Version, 1.47) (1.24 when the daemon sends none),
// then retry. Streams and hijacks negotiate first when no call came before.
// Every request path is prefixed "/v<version>".
// Errors: an answer with status >= 400 becomes an Error whose message is
// "Error response from daemon: <message>" (docker's wording; the message from
// the {"message": ...} body) and whose code follows the status (400
// InvalidArgument, 401/403 PermissionDenied, 404 NotFound, 409 Conflict, 501
// NotImplemented, 503 Unavailable, else Internal). Transport errors come from
// http::Client unchanged ("Cannot connect to the berth daemon at ...").
// Streams (pull, push, load, import, build, events) are decoded line by line and
// handed to callbacks as they arrive; an {"error": ...} message ends the call
// with that error (code Internal, message as sent, without the prefix, as
// docker prints it).
// Thread-safety: none (one http connection).
// Depends on: base, http.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/client/container_types.h"
#include "api/client/types.h"
#include "api/types/container_config.h"
#include "base/result.h"
#include "http/client.h"

namespace berth::api::client {

inline constexpr const char* kDefaultHost = "unix:///run/berth/berth.sock";
inline constexpr const char* kMaxApiVersion = "1.47";

struct Options {
  std::string host;         // "" -> $DOCKER_HOST -> kDefaultHost
  std::string api_version;  // "" -> $DOCKER_API_VERSION -> negotiate
  std::optional<http::TlsConfig> tls;
};

// Host after the defaults: explicit, then $DOCKER_HOST, then kDefaultHost.
std::string resolve_host(const std::string& explicit_host);

// "1.45" < "1.47": compares dotted numeric versions.
int compare_api_versions(std::string_view a, std::string_view b);

using Query = std::vector<std::pair<std::string, std::string>>;
// "?a=1&b=x%20y" (empty values kept; "" when q is empty).
std::string encode_query(const Query& q);

using MessageFn = std::function<Result<void>(const JsonMessage&)>;
using ByteSink = std::function<Result<void>(std::string_view)>;
using ByteSource = std::function<Result<std::string>()>;  // "" = end

struct ListImagesOptions {
  bool all = false;
  bool digests = false;
  std::string filters_json;  // docker's filters parameter, "" = none
};

struct PullOptions {
  std::string from_image;  // "docker.io/library/busybox" (name without tag)
  std::string tag;         // tag or digest; "" with all tags
  std::string platform;
  std::string registry_auth;  // X-Registry-Auth header value ("" = none)
};

struct ImportOptions {
  std::string source_url;  // "" = body from `source`
  ByteSource source;
  std::string repo;  // "name[:tag]" as the user typed it ("" = untagged)
  std::string tag;
  std::string message;
  std::vector<std::string> changes;
  std::string platform;
};

// POST /build with the classic builder (docker's `DOCKER_BUILDKIT=0 docker
// build`): what the CLI sends besides the context.
struct BuildOptions {
  std::vector<std::string> tags;  // t, repeated
  std::string dockerfile;         // path inside the context ("" = the daemon's default)
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  bool quiet = false;  // q=1: the daemon sends only the image id
  bool no_cache = false;
  bool pull = false;
  bool remove = true;  // rm=1|0: intermediate containers after a successful build
  bool force_remove = false;
  std::string target;
  std::string network_mode;
  std::vector<std::string> extra_hosts;  // "host:ip", extrahosts repeated (as docker's client)
  std::string platform;
  // The RUN containers' limits, sent as docker's CLI sends them (every
  // parameter, 0 / "" / null when unset).
  int64_t memory = 0, memory_swap = 0, shm_size = 0;
  int64_t cpu_shares = 0, cpu_period = 0, cpu_quota = 0;
  std::string cpuset_cpus, cpuset_mems, cgroup_parent, isolation;
  Json ulimits;                         // a list of {"Name","Soft","Hard"}; null = none
  std::vector<std::string> cache_from;  // --cache-from images
  // X-Registry-Config: base64url of {"<registry>": {auth config}} ("" = "e30=", none).
  std::string registry_config;
  ByteSource context;  // the tar, uploaded chunked as it is produced
};

class EngineClient {
 public:
  // Creates the http client for opts.host (see http::Client::create).
  static Result<std::unique_ptr<EngineClient>> connect(Options opts);
  // For tests: any http::Client (a fake).
  EngineClient(std::unique_ptr<http::Client> http, Options opts);

  const std::string& host() const { return opts_.host; }
  // The version used for requests (negotiates on first use).
  Result<std::string> api_version();
  // The version in use if one is known already ("" before the first call);
  // never negotiates. A second client to the same daemon can start with it.
  const std::string& known_api_version() const { return version_; }
  // True when the version came from negotiation and is lower than 1.47.
  bool downgraded() const { return downgraded_; }

  Result<Ping> ping();
  // In the daemon's member order: templates marshal them as sent.
  Result<OrderedJson> version();
  Result<OrderedJson> info();
  Result<std::vector<ImageSummary>> list_images(const ListImagesOptions& o);
  // Raw JSON text of GET /images/{name}/json (the CLI keeps the key order).
  Result<std::string> inspect_image_raw(const std::string& name);
  Result<std::string> inspect_container_raw(const std::string& name);
  Result<std::vector<HistoryItem>> history(const std::string& name);
  Result<void> tag(const std::string& source, const std::string& repo, const std::string& tag);
  Result<std::vector<DeleteItem>> remove_image(const std::string& name, bool force, bool noprune);
  Result<PruneReport> prune_images(const std::string& filters_json);
  Result<std::vector<SearchResult>> search(const std::string& term, int limit,
                                           const std::string& filters_json,
                                           const std::string& registry_auth);
  // berth extension: GET /images/search?term=REPO&list-tags=1.
  Result<std::vector<std::string>> list_tags(const std::string& repo,
                                             const std::string& registry_auth);
  // POST /auth with {"username","password","serveraddress"}.
  Result<AuthResponse> login(const std::string& username, const std::string& password,
                             const std::string& server_address);
  Result<DiskUsage> disk_usage();

  Result<void> pull(const PullOptions& o, const MessageFn& on_message);
  Result<void> push(const std::string& name, const std::string& tag,
                    const std::string& registry_auth, const MessageFn& on_message);
  // GET /images/get?names=...: the tarball to sink.
  Result<void> save(const std::vector<std::string>& names, const ByteSink& sink);
  // POST /images/load: progress messages (JSON answer) or raw text lines.
  Result<void> load(const ByteSource& source, bool quiet, const MessageFn& on_message);
  Result<void> import(const ImportOptions& o, const MessageFn& on_message);
  // POST /build: uploads o.context, then hands each JSON message of the
  // answer ({"stream"}, pull progress, {"aux":{"ID"}}) to on_message. An
  // {"error"} message ends the call as the other streams do.
  Result<void> build(const BuildOptions& o, const MessageFn& on_message);
  // GET /events; since/until in docker's "seconds[.nanos]" form ("" = unset).
  // Runs until the daemon ends the stream or on_event fails.
  Result<void> events(const std::string& since, const std::string& until,
                      const std::string& filters_json,
                      const std::function<Result<void>(const Event&)>& on_event);

  // --- containers (containers.cc) ---------------------------------------
  // POST /containers/create; `body` is docker's create body (create_body
  // builds one from the wire structs of api/types/container_config.h).
  Result<CreateResponse> create_container(const Json& body, const std::string& name,
                                          const std::string& platform);
  static Json create_body(const api::ContainerConfig& config, const api::HostConfig& host_config,
                          const Json& networking = nullptr);
  Result<std::vector<ContainerSummary>> list_containers(const ListContainersOptions& o);
  Result<Json> inspect_container(const std::string& name, bool size);
  // start/stop return true when the daemon answered 304 (already started/stopped).
  Result<bool> start_container(const std::string& name);
  Result<bool> stop_container(const std::string& name, std::optional<int> timeout,
                              const std::string& signal);
  Result<void> restart_container(const std::string& name, std::optional<int> timeout,
                                 const std::string& signal);
  Result<void> kill_container(const std::string& name, const std::string& signal);
  // Blocks until the condition ("" = not-running, "next-exit", "removed").
  Result<WaitResponse> wait_container(const std::string& name, const std::string& condition);
  Result<void> pause_container(const std::string& name);
  Result<void> unpause_container(const std::string& name);
  Result<void> rename_container(const std::string& name, const std::string& new_name);
  // body: docker's update body (Resources fields + RestartPolicy); the warnings.
  Result<std::vector<std::string>> update_container(const std::string& name, const Json& body);
  Result<void> remove_container(const std::string& name, bool force, bool volumes);
  Result<ContainerPruneReport> prune_containers(const std::string& filters_json);
  // Output as it arrives, demultiplexed (stream 1 stdout, 2 stderr; a TTY
  // container's raw bytes come as stream 1). tty nullopt: inspected first.
  Result<void> container_logs(const std::string& name, const LogsOptions& o,
                              std::optional<bool> tty, const StreamDemuxer::FrameFn& on_output);
  // Hijacked attach; tty nullopt: inspected first (decides the framing for
  // API < 1.42, where the Content-Type does not say).
  Result<StreamConnection> attach_container(const std::string& name, const AttachOptions& o,
                                            std::optional<bool> tty);
  Result<void> resize_container(const std::string& name, int height, int width);
  Result<std::string> exec_create(const std::string& container, const ExecOptions& o);
  // detach: runs without a connection (the result's fd is invalid).
  Result<StreamConnection> exec_start(const std::string& exec_id, bool detach, bool tty,
                                      std::vector<uint32_t> console_size = {});
  Result<ExecInspect> exec_inspect(const std::string& exec_id);
  Result<void> exec_resize(const std::string& exec_id, int height, int width);
  Result<TopResponse> top(const std::string& name, const std::string& ps_args);
  // Each stats JSON object as it arrives (one with stream=false).
  Result<void> stats(const std::string& name, bool stream, bool one_shot,
                     const std::function<Result<void>(const Json&)>& on_sample);
  Result<std::vector<ContainerChange>> changes(const std::string& name);
  Result<void> export_container(const std::string& name, const ByteSink& sink);
  // HEAD / GET / PUT /containers/{id}/archive (docker cp).
  Result<PathStat> archive_stat(const std::string& name, const std::string& path);
  Result<PathStat> archive_get(const std::string& name, const std::string& path,
                               const ByteSink& sink);
  Result<void> archive_put(const std::string& name, const std::string& path, const ByteSource& tar,
                           bool no_overwrite_dir_non_dir, bool copy_uid_gid);
  Result<std::string> commit(const CommitOptions& o);  // the image id

  // --- volumes (volumes.cc); answers as docker's JSON ---------------------
  Result<Json> create_volume(const Json& body);                // the volume
  Result<Json> list_volumes(const std::string& filters_json);  // {"Volumes":[...],...}
  Result<std::string> inspect_volume_raw(const std::string& name);
  Result<void> remove_volume(const std::string& name, bool force);
  Result<Json> prune_volumes(const std::string& filters_json);  // {"VolumesDeleted",...}

  // Lower level: one request to "/v<ver><path><query>".
  Result<http::ClientResponse> call(const std::string& method, const std::string& path,
                                    const Query& query = {}, std::string body = {},
                                    http::Headers headers = {});

  // container calls used by the CLI (cli_*.cc)
  // One request to "/v<ver><path><query>" whose body goes to on_chunk as it
  // arrives (logs, stats, export, archive) or into the response when on_chunk
  // is empty. An answer >= 400 becomes daemon_error; with hold_error_body, a
  // body starting with '{' is held back (up to 64 KiB) until the status is
  // known, so an error message never reaches on_chunk.
  Result<http::ClientResponse> cli_request(
      const std::string& method, const std::string& path, const Query& query, std::string body,
      http::Headers headers, const std::function<Result<void>(std::string_view)>& on_chunk,
      ByteSource body_source = {}, bool hold_error_body = true);
  // Hijacked connection (attach, exec start): "Connection: Upgrade",
  // "Upgrade: tcp"; an answer >= 400 becomes daemon_error.
  Result<http::Client::Upgraded> cli_upgrade(const std::string& method, const std::string& path,
                                             const Query& query, std::string body);
  // A long poll (POST /wait before start, as docker's client does):
  // cli_begin returns once the answer's headers are read (the daemon then
  // holds the wait); cli_finish reads the body. An answer >= 400 is
  // daemon_error from cli_begin. Nothing else may use this client between them.
  Result<void> cli_begin(const std::string& method, const std::string& path, const Query& query);
  Result<std::string> cli_finish();

 private:
  Result<std::string> target(const std::string& path, const Query& query);
  // A streaming call whose answer is JSON lines; each decoded object goes to
  // on_json. Returns the HTTP error (status >= 400) if any.
  Result<void> stream_json(http::ClientRequest req,
                           const std::function<Result<void>(const Json&)>& on_json);
  Result<void> stream_messages(http::ClientRequest req, const MessageFn& on_message);
  // A tar answer to sink (an error answer is told by its leading '{'); the
  // response headers.
  Result<http::Headers> tar_download(http::ClientRequest req, const ByteSink& sink);
  static Result<PathStat> decode_stat(const std::string& header);

  std::unique_ptr<http::Client> http_;
  Options opts_;
  std::string version_;
  bool downgraded_ = false;
};

// An Error for a daemon answer: docker's "Error response from daemon: ...".
Error daemon_error(int status, std::string_view body);

// Splits a byte stream into lines and parses each non-empty one as JSON.
class JsonLineDecoder {
 public:
  // Calls on_json for every complete line in data.
  Result<void> feed(std::string_view data, const std::function<Result<void>(const Json&)>& on_json);
  // The unterminated tail, if any.
  Result<void> finish(const std::function<Result<void>(const Json&)>& on_json);

 private:
  Result<void> line(std::string_view l, const std::function<Result<void>(const Json&)>& on_json);
  std::string buf_;
};

}  // namespace berth::api::client
