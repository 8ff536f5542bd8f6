#include "api/server/stream.h"

#include "api/types/progress.h"
#include "base/log.h"

namespace berth::api::server {

Result<void> JsonStream::start_locked() {
  if (started_) return ok();
  started_ = true;
  auto h = c_.base_headers;
  h.emplace("Content-Type", content_type_);
  for (const auto& kv : extra_) h.insert(kv);
  auto r = c_.res.begin_stream(200, h);
  if (!r) cancelled_ = true;
  return r;
}

Result<void> JsonStream::start() {
  std::lock_guard lk(mu_);
  return start_locked();
}

Result<void> JsonStream::write(std::string_view chunk) {
  std::lock_guard lk(mu_);
  if (ended_) return make_error(Errc::Cancelled, "stream already ended");
  if (cancelled_) return make_error(Errc::Cancelled, "client went away");
  BERTH_TRY(start_locked());
  if (chunk.empty()) return ok();  // an empty chunk would end the chunked body
  auto r = c_.res.write(chunk);
  if (!r) cancelled_ = true;
  return r;
}

void JsonStream::finish(const Result<void>& r) {
  std::lock_guard lk(mu_);
  if (ended_) return;
  ended_ = true;
  if (!started_) {
    if (!r) {
      send_error(c_, r.error());
      return;
    }
    // Nothing to stream: an empty successful answer.
    started_ = true;
    auto h = c_.base_headers;
    h.emplace("Content-Type", content_type_);
    for (const auto& kv : extra_) h.insert(kv);
    [[maybe_unused]] auto s = c_.res.send(200, h, "");
    return;
  }
  if (!r && !cancelled_) {
    log_debug("api: stream error after start: {}", r.error().message);
    [[maybe_unused]] auto w = c_.res.write(encode_error_line(r.error().message));
  }
  if (!cancelled_) [[maybe_unused]]
    auto e = c_.res.end();
}

}  // namespace berth::api::server
