// api/server/stream.h — a chunked JSON-lines answer (pull, push, load,
// import, events) that starts lazily: until the first line is written the
// handler can still answer with a plain error status, as dockerd does
// (`docker pull nosuch` gets a 404, not a 200 with an error line). After the
// first line, errors travel in the stream as {"errorDetail":...} lines.
// write() may be called from several threads (progress callbacks).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "api/server/context.h"

namespace berth::api::server {

class JsonStream {
 public:
  explicit JsonStream(Ctx& c, std::string content_type = "application/json",
                      http::Headers extra = {})
      : c_(c), content_type_(std::move(content_type)), extra_(std::move(extra)) {}
  // Writes one chunk (a '\n'-terminated JSON line, or raw bytes); starts the
  // stream first. After a failed write (client gone) sets cancelled().
  Result<void> write(std::string_view chunk);
  // Sends the headers now (events: clients wait for them).
  Result<void> start();
  bool started() const { return started_; }
  const std::atomic<bool>* cancel_flag() const { return &cancelled_; }
  bool cancelled() const { return cancelled_; }
  // Ends the answer: an error before the stream started becomes an HTTP
  // error answer, after it an error line; success ends the stream (or sends
  // an empty 200 when nothing was written).
  void finish(const Result<void>& r);

 private:
  Result<void> start_locked();
  Ctx& c_;
  std::string content_type_;
  http::Headers extra_;  // more headers (archive's X-Docker-Container-Path-Stat)
  std::mutex mu_;
  bool started_ = false;
  bool ended_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace berth::api::server
