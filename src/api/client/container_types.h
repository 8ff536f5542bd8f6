// api/client/container_types.h — container answers as the CLI reads them
// (decoded from docker's JSON by container_decode.cc; unknown fields are
// ignored, missing ones keep their defaults, so dockerd's answers decode too),
// the options of the container calls, and the demultiplexer of docker's
// stdcopy stream (logs, attach and exec without a TTY).
// Depends on: base.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"

namespace berth::api::client {

struct ContainerPort {
  std::string ip;
  int private_port = 0;
  int public_port = 0;  // 0 = not published
  std::string type;     // "tcp"
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;
  std::string image;
  std::string image_id;
  std::string command;
  int64_t created = 0;
  std::vector<ContainerPort> ports;
  int64_t size_rw = -1, size_root_fs = -1;  // -1 = not sent
  std::map<std::string, std::string> labels;
  std::string state;   // "running"
  std::string status;  // "Up 5 seconds"
  std::string network_mode;
  Json raw;  // the row as sent (for --format)
};

struct CreateResponse {
  std::string id;
  std::vector<std::string> warnings;
};

struct WaitResponse {
  int64_t status_code = 0;
  std::string error;  // Error.Message ("" when null)
};

struct ContainerPruneReport {
  std::vector<std::string> deleted;
  int64_t space_reclaimed = 0;
};

struct TopResponse {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> processes;
};

struct ContainerChange {
  int kind = 0;  // 0 modified (C), 1 added (A), 2 deleted (D)
  std::string path;
};

struct ExecInspect {
  std::string id;
  std::string container_id;
  bool running = false;
  std::optional<int> exit_code;
  int pid = 0;
  bool tty = false;
  bool open_stdin = false, open_stdout = false, open_stderr = false;
};

struct PathStat {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;  // Go's os.FileMode bits (dir = 1<<31, symlink = 1<<27)
  int64_t mtime_ns = 0;
  std::string link_target;
};

struct ListContainersOptions {
  bool all = false;
  int limit = -1;  // <= 0: no limit
  bool size = false;
  std::string filters_json;  // "" = none
};

struct LogsOptions {
  bool follow = false;
  bool stdout = true, stderr = true;
  std::string since, until;  // docker's "seconds[.nanos]" form ("" = unset)
  std::string tail;          // "" = all
  bool timestamps = false;
  bool details = false;  // docker's ?details=1 (each line after its log attributes)
};

struct AttachOptions {
  bool stream = true;
  bool logs = false;
  bool stdin = false, stdout = true, stderr = true;
  std::string detach_keys;
};

// POST /containers/{id}/exec body.
struct ExecOptions {
  std::vector<std::string> cmd;
  bool attach_stdin = false, attach_stdout = true, attach_stderr = true;
  bool tty = false;
  bool privileged = false;
  std::vector<std::string> env;
  std::string user;
  std::string working_dir;
  std::string detach_keys;
  std::vector<uint32_t> console_size;  // {h, w} or empty
};

struct CommitOptions {
  std::string container;
  std::string repository, tag;
  std::string comment, author;
  std::vector<std::string> changes;
  bool pause = true;
  Json config;  // Config overrides (null = none)
};

// A hijacked attach/exec connection: `fd` carries the stream both ways;
// `buffered` are stream bytes read past the HTTP header. `multiplexed`:
// the output is docker's stdcopy frames (no TTY), else raw bytes.
struct StreamConnection {
  Fd fd;
  std::string buffered;
  bool multiplexed = false;
};

// stdcopy frames ([stream, 0, 0, 0, size BE32] + payload) cut at arbitrary
// chunk boundaries; payloads go to on_frame(stream 0 stdin|1 stdout|2
// stderr, bytes). InvalidArgument for a stream number above 3.
class StreamDemuxer {
 public:
  using FrameFn = std::function<Result<void>(int stream, std::string_view data)>;
  Result<void> feed(std::string_view data, const FrameFn& on_frame);
  // Bytes of an unfinished frame left at the end (0 = clean end).
  size_t pending() const { return buf_.size(); }

 private:
  std::string buf_;
};

Result<std::vector<ContainerSummary>> decode_container_list(std::string_view body);
Result<CreateResponse> decode_create_response(std::string_view body);
Result<WaitResponse> decode_wait_response(std::string_view body);
Result<ContainerPruneReport> decode_container_prune(std::string_view body);
Result<TopResponse> decode_top(std::string_view body);
Result<std::vector<ContainerChange>> decode_changes(std::string_view body);
Result<ExecInspect> decode_exec_inspect(std::string_view body);
Json encode_exec_options(const ExecOptions& o);

}  // namespace berth::api::client
