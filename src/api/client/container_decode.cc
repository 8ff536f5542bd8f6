// Decoders of docker's container answers for the CLI.
#include "api/client/container_types.h"

namespace berth::api::client {
namespace {

std::string str(const Json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t num(const Json& j, const char* k, int64_t def = 0) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number()) return def;
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return it->get<int64_t>();
}
bool flag(const Json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
std::vector<std::string> strs(const Json& j, const char* k) {
  std::vector<std::string> out;
  auto it = j.find(k);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& e : *it)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

Result<Json> parse_as(std::string_view body, std::string_view what, Json::value_t type) {
  Json j = BERTH_TRY(parse_json(body, what));
  if (j.type() != type && !(type == Json::value_t::array && j.is_null()))
    return make_error(Errc::InvalidArgument, "{}: unexpected JSON {}", what, j.type_name());
  return j;
}

}  // namespace

Result<void> StreamDemuxer::feed(std::string_view data, const FrameFn& on_frame) {
  buf_.append(data);
  size_t off = 0;
  while (buf_.size() - off >= 8) {
    auto b = [&](size_t i) { return static_cast<unsigned char>(buf_[off + i]); };
    int stream = b(0);
    if (stream > 3)
      return make_error(Errc::InvalidArgument,
                        "unexpected stream header byte {} (is the stream multiplexed?)", stream);
    size_t size = (size_t{b(4)} << 24) | (size_t{b(5)} << 16) | (size_t{b(6)} << 8) | b(7);
    if (buf_.size() - off - 8 < size) break;
    std::string_view payload(buf_.data() + off + 8, size);
    auto r = on_frame(stream, payload);
    off += 8 + size;
    if (!r) {
      buf_.erase(0, off);
      return r;
    }
  }
  buf_.erase(0, off);
  return ok();
}

Result<std::vector<ContainerSummary>> decode_container_list(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "container list", Json::value_t::array));
  std::vector<ContainerSummary> out;
  if (j.is_null()) return out;
  for (auto& r : j) {
    if (!r.is_object())
      return make_error(Errc::InvalidArgument, "container list: a row is not an object");
    ContainerSummary s;
    s.id = str(r, "Id");
    s.names = strs(r, "Names");
    s.image = str(r, "Image");
    s.image_id = str(r, "ImageID");
    s.command = str(r, "Command");
    s.created = num(r, "Created");
    if (auto it = r.find("Ports"); it != r.end() && it->is_array())
      for (const auto& p : *it) {
        if (!p.is_object()) continue;
        s.ports.push_back({str(p, "IP"), static_cast<int>(num(p, "PrivatePort")),
                           static_cast<int>(num(p, "PublicPort")), str(p, "Type")});
      }
    s.size_rw = num(r, "SizeRw", -1);
    s.size_root_fs = num(r, "SizeRootFs", -1);
    if (auto it = r.find("Labels"); it != r.end() && it->is_object())
      for (auto l = it->begin(); l != it->end(); ++l)
        if (l->is_string()) s.labels[l.key()] = l->get<std::string>();
    s.state = str(r, "State");
    s.status = str(r, "Status");
    if (auto it = r.find("HostConfig"); it != r.end() && it->is_object())
      s.network_mode = str(*it, "NetworkMode");
    s.raw = std::move(r);  // j is ours: no deep copy of each row
    out.push_back(std::move(s));
  }
  return out;
}

Result<CreateResponse> decode_create_response(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "container create response", Json::value_t::object));
  CreateResponse r{str(j, "Id"), strs(j, "Warnings")};
  if (r.id.empty()) return make_error(Errc::InvalidArgument, "container create response: no Id");
  return r;
}

Result<WaitResponse> decode_wait_response(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "container wait response", Json::value_t::object));
  WaitResponse w;
  w.status_code = num(j, "StatusCode");
  if (auto it = j.find("Error"); it != j.end() && it->is_object()) w.error = str(*it, "Message");
  return w;
}

Result<ContainerPruneReport> decode_container_prune(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "container prune response", Json::value_t::object));
  return ContainerPruneReport{strs(j, "ContainersDeleted"), num(j, "SpaceReclaimed")};
}

Result<TopResponse> decode_top(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "container top response", Json::value_t::object));
  TopResponse t;
  t.titles = strs(j, "Titles");
  if (auto it = j.find("Processes"); it != j.end() && it->is_array())
    for (const auto& row : *it) {
      std::vector<std::string> cells;
      if (row.is_array())
        for (const auto& c : row)
          if (c.is_string()) cells.push_back(c.get<std::string>());
      t.processes.push_back(std::move(cells));
    }
  return t;
}

Result<std::vector<ContainerChange>> decode_changes(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "container changes response", Json::value_t::array));
  std::vector<ContainerChange> out;
  if (j.is_null()) return out;
  for (const auto& c : j)
    if (c.is_object()) out.push_back({static_cast<int>(num(c, "Kind")), str(c, "Path")});
  return out;
}

Result<ExecInspect> decode_exec_inspect(std::string_view body) {
  Json j = BERTH_TRY(parse_as(body, "exec inspect response", Json::value_t::object));
  ExecInspect e;
  e.id = str(j, "ID");
  e.container_id = str(j, "ContainerID");
  e.running = flag(j, "Running");
  if (auto it = j.find("ExitCode"); it != j.end() && it->is_number_integer())
    e.exit_code = it->get<int>();
  e.pid = static_cast<int>(num(j, "Pid"));
  if (auto it = j.find("ProcessConfig"); it != j.end() && it->is_object()) e.tty = flag(*it, "tty");
  e.open_stdin = flag(j, "OpenStdin");
  e.open_stdout = flag(j, "OpenStdout");
  e.open_stderr = flag(j, "OpenStderr");
  return e;
}

Json encode_exec_options(const ExecOptions& o) {
  Json j = Json::object();
  j["AttachStdin"] = o.attach_stdin;
  j["AttachStdout"] = o.attach_stdout;
  j["AttachStderr"] = o.attach_stderr;
  j["DetachKeys"] = o.detach_keys;
  j["Tty"] = o.tty;
  j["Env"] = o.env;
  j["Cmd"] = o.cmd;
  j["Privileged"] = o.privileged;
  j["User"] = o.user;
  j["WorkingDir"] = o.working_dir;
  if (o.console_size.size() == 2) j["ConsoleSize"] = o.console_size;
  return j;
}

}  // namespace berth::api::client
