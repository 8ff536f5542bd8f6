// EngineClient: typed container calls (the "containers" block of
// engine_client.h).
#include <fmt/format.h>

#include "api/client/engine_client.h"
#include "api/client/held_error.h"
#include "api/types/containers.h"
#include "base/strings.h"

namespace berth::api::client {
namespace {

std::string cpath(const std::string& name, std::string_view action = {}) {
  std::string p = "/containers/" + http::url_encode(name);
  if (!action.empty()) p += "/" + std::string(action);
  return p;
}

const char* b(bool v) { return v ? "1" : "0"; }

std::string header_of(const http::Headers& h, const char* name) {
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

// Multiplexed or raw: the Content-Type says so from API 1.42 on; before,
// the container's (or exec's) TTY decides.
bool is_multiplexed(const http::Headers& h, bool tty) {
  std::string ct = header_of(h, "Content-Type");
  if (ct.find(kMultiplexedStream) != std::string::npos) return true;
  return !tty;
}

}  // namespace

Result<CreateResponse> EngineClient::create_container(const Json& body, const std::string& name,
                                                      const std::string& platform) {
  Query q;
  if (!name.empty()) q.emplace_back("name", name);
  if (!platform.empty()) q.emplace_back("platform", platform);
  auto r = BERTH_TRY(call("POST", "/containers/create", q, dump_json(body)));
  return decode_create_response(r.body);
}

Json EngineClient::create_body(const api::ContainerConfig& config,
                               const api::HostConfig& host_config, const Json& networking) {
  Json j = encode_container_config(config, berth::api::kMaxApiVersion);
  j["HostConfig"] = encode_host_config(host_config, berth::api::kMaxApiVersion);
  if (!networking.is_null()) j["NetworkingConfig"] = networking;
  return j;
}

Result<std::vector<ContainerSummary>> EngineClient::list_containers(
    const ListContainersOptions& o) {
  Query q;
  if (o.all) q.emplace_back("all", "1");
  if (o.limit > 0) q.emplace_back("limit", std::to_string(o.limit));
  if (o.size) q.emplace_back("size", "1");
  if (!o.filters_json.empty()) q.emplace_back("filters", o.filters_json);
  auto r = BERTH_TRY(call("GET", "/containers/json", q));
  return decode_container_list(r.body);
}

Result<Json> EngineClient::inspect_container(const std::string& name, bool size) {
  Query q;
  if (size) q.emplace_back("size", "1");
  auto r = BERTH_TRY(call("GET", cpath(name, "json"), q));
  return parse_json(r.body, "container inspect response");
}

Result<bool> EngineClient::start_container(const std::string& name) {
  auto r = BERTH_TRY(call("POST", cpath(name, "start")));
  return r.status == 304;
}

Result<bool> EngineClient::stop_container(const std::string& name, std::optional<int> timeout,
                                          const std::string& signal) {
  Query q;
  if (timeout) q.emplace_back("t", std::to_string(*timeout));
  if (!signal.empty()) q.emplace_back("signal", signal);
  auto r = BERTH_TRY(call("POST", cpath(name, "stop"), q));
  return r.status == 304;
}

Result<void> EngineClient::restart_container(const std::string& name, std::optional<int> timeout,
                                             const std::string& signal) {
  Query q;
  if (timeout) q.emplace_back("t", std::to_string(*timeout));
  if (!signal.empty()) q.emplace_back("signal", signal);
  BERTH_TRY(call("POST", cpath(name, "restart"), q));
  return ok();
}

Result<void> EngineClient::kill_container(const std::string& name, const std::string& signal) {
  Query q;
  if (!signal.empty()) q.emplace_back("signal", signal);
  BERTH_TRY(call("POST", cpath(name, "kill"), q));
  return ok();
}

Result<WaitResponse> EngineClient::wait_container(const std::string& name,
                                                  const std::string& condition) {
  Query q;
  if (!condition.empty()) q.emplace_back("condition", condition);
  auto r = BERTH_TRY(call("POST", cpath(name, "wait"), q));
  return decode_wait_response(r.body);
}

Result<void> EngineClient::pause_container(const std::string& name) {
  BERTH_TRY(call("POST", cpath(name, "pause")));
  return ok();
}

Result<void> EngineClient::unpause_container(const std::string& name) {
  BERTH_TRY(call("POST", cpath(name, "unpause")));
  return ok();
}

Result<void> EngineClient::rename_container(const std::string& name, const std::string& new_name) {
  BERTH_TRY(call("POST", cpath(name, "rename"), {{"name", new_name}}));
  return ok();
}

Result<std::vector<std::string>> EngineClient::update_container(const std::string& name,
                                                                const Json& body) {
  auto r = BERTH_TRY(call("POST", cpath(name, "update"), {}, dump_json(body)));
  Json j = BERTH_TRY(parse_json(r.body, "container update response"));
  std::vector<std::string> warnings;
  if (j.is_object() && j.contains("Warnings") && j["Warnings"].is_array())
    for (const auto& w : j["Warnings"])
      if (w.is_string()) warnings.push_back(w.get<std::string>());
  return warnings;
}

Result<void> EngineClient::remove_container(const std::string& name, bool force, bool volumes) {
  Query q;
  if (force) q.emplace_back("force", "1");
  if (volumes) q.emplace_back("v", "1");
  BERTH_TRY(call("DELETE", cpath(name), q));
  return ok();
}

Result<ContainerPruneReport> EngineClient::prune_containers(const std::string& filters_json) {
  Query q;
  if (!filters_json.empty()) q.emplace_back("filters", filters_json);
  auto r = BERTH_TRY(call("POST", "/containers/prune", q));
  return decode_container_prune(r.body);
}

Result<void> EngineClient::container_logs(const std::string& name, const LogsOptions& o,
                                          std::optional<bool> tty,
                                          const StreamDemuxer::FrameFn& on_output) {
  if (!tty) {
    Json d = BERTH_TRY(inspect_container(name, false));
    tty = d.contains("Config") && d["Config"].is_object() && d["Config"].value("Tty", false);
  }
  Query q{{"stdout", b(o.stdout)}, {"stderr", b(o.stderr)}};
  if (o.follow) q.emplace_back("follow", "1");
  if (!o.since.empty()) q.emplace_back("since", o.since);
  if (!o.until.empty()) q.emplace_back("until", o.until);
  q.emplace_back("tail", o.tail.empty() ? "all" : o.tail);
  if (o.timestamps) q.emplace_back("timestamps", "1");
  if (o.details) q.emplace_back("details", "1");
  http::ClientRequest req;
  req.method = "GET";
  req.target = BERTH_TRY(target(cpath(name, "logs"), q));
  StreamDemuxer demux;
  // Consecutive frames of one stream within a received piece go out as one
  // call (a million-line log is a million frames: the caller writes once
  // per piece, not once per line). Order across streams is kept.
  std::string run;
  int run_stream = 0;
  auto flush_run = [&]() -> Result<void> {
    if (run.empty()) return ok();
    auto r = on_output(run_stream, run);
    run.clear();
    return r;
  };
  // The status is unknown while chunks arrive: an error answer is a JSON
  // object; a multiplexed stream starts with a stream byte (0-2), a TTY
  // stream that starts with {"message": is held until the answer ends.
  auto deliver = [&](std::string_view data) -> Result<void> {
    if (*tty) return on_output(1, data);
    auto fed = demux.feed(data, [&](int stream, std::string_view payload) -> Result<void> {
      if (stream != run_stream) BERTH_TRY(flush_run());
      run_stream = stream;
      run.append(payload);
      return ok();
    });
    BERTH_TRY(flush_run());  // frames before a bad header are still shown
    return fed;
  };
  HeldErrorStream stream(
      [&](std::string_view first) {
        return starts_with(first, "{\"message\":") || (!*tty && first[0] == '{');
      },
      deliver, HeldErrorStream::Overflow::Deliver);
  req.on_chunk = [&](std::string_view chunk) { return stream.on_chunk(chunk); };
  BERTH_TRY(stream.finish(http_->request(std::move(req))));
  return ok();
}

Result<StreamConnection> EngineClient::attach_container(const std::string& name,
                                                        const AttachOptions& o,
                                                        std::optional<bool> tty) {
  if (!tty) {
    Json d = BERTH_TRY(inspect_container(name, false));
    tty = d.contains("Config") && d["Config"].is_object() && d["Config"].value("Tty", false);
  }
  Query q{{"stream", b(o.stream)},
          {"stdin", b(o.stdin)},
          {"stdout", b(o.stdout)},
          {"stderr", b(o.stderr)}};
  if (o.logs) q.emplace_back("logs", "1");
  if (!o.detach_keys.empty()) q.emplace_back("detachKeys", o.detach_keys);
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target(cpath(name, "attach"), q));
  auto up = BERTH_TRY(http_->upgrade(std::move(req)));
  if (up.response.status >= 400) return daemon_error(up.response.status, up.response.body);
  StreamConnection c;
  c.multiplexed = is_multiplexed(up.response.headers, *tty);
  c.fd = std::move(up.fd);
  c.buffered = std::move(up.buffered);
  return c;
}

Result<void> EngineClient::resize_container(const std::string& name, int height, int width) {
  BERTH_TRY(call("POST", cpath(name, "resize"),
                 {{"h", std::to_string(height)}, {"w", std::to_string(width)}}));
  return ok();
}

Result<std::string> EngineClient::exec_create(const std::string& container, const ExecOptions& o) {
  auto r = BERTH_TRY(call("POST", cpath(container, "exec"), {}, dump_json(encode_exec_options(o))));
  Json j = BERTH_TRY(parse_json(r.body, "exec create response"));
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string())
    return make_error(Errc::InvalidArgument, "exec create response: no Id");
  return j["Id"].get<std::string>();
}

Result<StreamConnection> EngineClient::exec_start(const std::string& exec_id, bool detach, bool tty,
                                                  std::vector<uint32_t> console_size) {
  Json body = {{"Detach", detach}, {"Tty", tty}};
  if (console_size.size() == 2) body["ConsoleSize"] = console_size;
  std::string path = "/exec/" + http::url_encode(exec_id) + "/start";
  if (detach) {
    BERTH_TRY(call("POST", path, {}, dump_json(body)));
    return StreamConnection{};
  }
  http::ClientRequest req;
  req.method = "POST";
  req.target = BERTH_TRY(target(path, {}));
  req.headers.emplace("Content-Type", "application/json");
  req.body = dump_json(body);
  auto up = BERTH_TRY(http_->upgrade(std::move(req)));
  if (up.response.status >= 400) return daemon_error(up.response.status, up.response.body);
  StreamConnection c;
  c.multiplexed = is_multiplexed(up.response.headers, tty);
  c.fd = std::move(up.fd);
  c.buffered = std::move(up.buffered);
  return c;
}

Result<ExecInspect> EngineClient::exec_inspect(const std::string& exec_id) {
  auto r = BERTH_TRY(call("GET", "/exec/" + http::url_encode(exec_id) + "/json"));
  return decode_exec_inspect(r.body);
}

Result<void> EngineClient::exec_resize(const std::string& exec_id, int height, int width) {
  BERTH_TRY(call("POST", "/exec/" + http::url_encode(exec_id) + "/resize",
                 {{"h", std::to_string(height)}, {"w", std::to_string(width)}}));
  return ok();
}

Result<TopResponse> EngineClient::top(const std::string& name, const std::string& ps_args) {
  Query q;
  if (!ps_args.empty()) q.emplace_back("ps_args", ps_args);
  auto r = BERTH_TRY(call("GET", cpath(name, "top"), q));
  return decode_top(r.body);
}

Result<void> EngineClient::stats(const std::string& name, bool stream, bool one_shot,
                                 const std::function<Result<void>(const Json&)>& on_sample) {
  Query q{{"stream", b(stream)}};
  if (one_shot) q.emplace_back("one-shot", "1");
  http::ClientRequest req;
  req.method = "GET";
  req.target = BERTH_TRY(target(cpath(name, "stats"), q));
  return stream_json(std::move(req), on_sample);
}

Result<std::vector<ContainerChange>> EngineClient::changes(const std::string& name) {
  auto r = BERTH_TRY(call("GET", cpath(name, "changes")));
  return decode_changes(r.body);
}

Result<void> EngineClient::export_container(const std::string& name, const ByteSink& sink) {
  http::ClientRequest req;
  req.method = "GET";
  req.target = BERTH_TRY(target(cpath(name, "export"), {}));
  BERTH_TRY(tar_download(std::move(req), sink));
  return ok();
}

Result<PathStat> EngineClient::archive_stat(const std::string& name, const std::string& path) {
  http::ClientRequest req;
  req.method = "HEAD";
  req.target = BERTH_TRY(target(cpath(name, "archive"), {{"path", path}}));
  auto resp = BERTH_TRY(http_->request(std::move(req)));
  if (resp.status >= 400) {
    // A HEAD answer has no body: docker's client words these itself.
    if (resp.status == 404)
      return Error{Errc::NotFound, 0,
                   fmt::format("Error response from daemon: Could not find the file {} in "
                               "container {}",
                               path, name)};
    return daemon_error(resp.status, resp.body);
  }
  return decode_stat(header_of(resp.headers, "X-Docker-Container-Path-Stat"));
}

Result<PathStat> EngineClient::archive_get(const std::string& name, const std::string& path,
                                           const ByteSink& sink) {
  http::ClientRequest req;
  req.method = "GET";
  req.target = BERTH_TRY(target(cpath(name, "archive"), {{"path", path}}));
  auto headers = BERTH_TRY(tar_download(std::move(req), sink));
  return decode_stat(header_of(headers, "X-Docker-Container-Path-Stat"));
}

Result<void> EngineClient::archive_put(const std::string& name, const std::string& path,
                                       const ByteSource& tar, bool no_overwrite_dir_non_dir,
                                       bool copy_uid_gid) {
  Query q{{"path", path}};
  if (no_overwrite_dir_non_dir) q.emplace_back("noOverwriteDirNonDir", "1");
  if (copy_uid_gid) q.emplace_back("copyUIDGID", "1");
  http::ClientRequest req;
  req.method = "PUT";
  req.target = BERTH_TRY(target(cpath(name, "archive"), q));
  req.headers.emplace("Content-Type", "application/x-tar");
  req.body_source = tar;
  auto resp = BERTH_TRY(http_->request(std::move(req)));
  if (resp.status >= 400) return daemon_error(resp.status, resp.body);
  return ok();
}

Result<std::string> EngineClient::commit(const CommitOptions& o) {
  Query q{{"container", o.container}, {"pause", b(o.pause)}};
  if (!o.repository.empty()) q.emplace_back("repo", o.repository);
  if (!o.tag.empty()) q.emplace_back("tag", o.tag);
  if (!o.comment.empty()) q.emplace_back("comment", o.comment);
  if (!o.author.empty()) q.emplace_back("author", o.author);
  for (const auto& c : o.changes) q.emplace_back("changes", c);
  auto r = BERTH_TRY(call("POST", "/commit", q, o.config.is_null() ? "{}" : dump_json(o.config)));
  Json j = BERTH_TRY(parse_json(r.body, "commit response"));
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string())
    return make_error(Errc::InvalidArgument, "commit response: no Id");
  return j["Id"].get<std::string>();
}

// A tar answer: an error answer is a JSON object, a tar never starts with '{'.
Result<http::Headers> EngineClient::tar_download(http::ClientRequest req, const ByteSink& sink) {
  HeldErrorStream stream([](std::string_view first) { return first[0] == '{'; }, sink,
                         HeldErrorStream::Overflow::Drop);
  req.on_chunk = [&](std::string_view chunk) { return stream.on_chunk(chunk); };
  auto resp = BERTH_TRY(stream.finish(http_->request(std::move(req))));
  return resp.headers;
}

Result<PathStat> EngineClient::decode_stat(const std::string& header) {
  if (header.empty()) return PathStat{};
  auto s = BERTH_TRY(api::decode_path_stat_header(header));
  return PathStat{s.name, s.size, s.mode, s.mtime_ns, s.link_target};
}

}  // namespace berth::api::client
