#include "api/client/held_error.h"

#include <utility>

namespace berth::api::client {

HeldErrorStream::HeldErrorStream(std::function<bool(std::string_view)> looks_like_error,
                                 ByteSink sink, Overflow overflow)
    : looks_like_error_(std::move(looks_like_error)), sink_(std::move(sink)), overflow_(overflow) {}

Result<void> HeldErrorStream::deliver(std::string_view data) {
  auto r = sink_(data);
  if (!r) sink_error_ = r.error();
  return r;
}

Result<void> HeldErrorStream::on_chunk(std::string_view chunk) {
  if (chunk.empty()) return ok();
  if (first_) {
    first_ = false;
    holding_ = looks_like_error_(chunk);
  }
  if (!holding_) return deliver(chunk);
  if (held_.size() + chunk.size() <= kLimit) {
    held_.append(chunk);
    return ok();
  }
  if (overflow_ == Overflow::Drop) {
    held_.append(chunk.substr(0, kLimit - held_.size()));
    dropped_ = true;
    return ok();
  }
  holding_ = false;
  if (!held_.empty()) BERTH_TRY(deliver(std::exchange(held_, std::string())));
  return deliver(chunk);
}

Result<http::ClientResponse> HeldErrorStream::finish(Result<http::ClientResponse> resp) {
  if (sink_error_) return *sink_error_;
  if (!resp) return resp.error();
  if (resp->status >= 400)
    return daemon_error(resp->status, resp->body.empty() ? held_ : resp->body);
  if (dropped_) {
    return make_error(Errc::InvalidArgument,
                      "the daemon's answer (status {}) started like an error body and ran past "
                      "{} bytes",
                      resp->status, kLimit);
  }
  if (!held_.empty()) BERTH_TRY(sink_(std::exchange(held_, std::string())));
  if (!resp->body.empty()) BERTH_TRY(sink_(resp->body));
  resp->body.clear();
  return resp;
}

}  // namespace berth::api::client
