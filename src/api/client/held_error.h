// A streamed answer's status is known only once the answer has ended, but
// its chunks arrive before that: an error answer (a JSON object) would reach
// the caller's sink as if it were data. HeldErrorStream stands between the
// HTTP client's chunks and the sink. When the first chunk looks like an error
// body (the caller's test), it holds the chunks back, up to kLimit bytes;
// finish() then turns a failed status into daemon_error with the held body,
// or hands what it held to the sink after all.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/client/engine_client.h"

namespace berth::api::client {

class HeldErrorStream {
 public:
  static constexpr size_t kLimit = 65536;
  // What to do with a held answer that grows past kLimit: Deliver it (the
  // answer is data after all, e.g. a long JSON document), or Drop the rest
  // (no data answer can start that way, so only an error body's first
  // kLimit bytes are kept for the message).
  enum class Overflow { Deliver, Drop };

  HeldErrorStream(std::function<bool(std::string_view first)> looks_like_error, ByteSink sink,
                  Overflow overflow);

  // For http::ClientRequest::on_chunk. An error from the sink is remembered
  // and returned by finish(), as the transfer's real cause.
  Result<void> on_chunk(std::string_view chunk);

  // After the request: the sink's error, else the transport's, else the
  // daemon's error for a status >= 400, else the held bytes and any body
  // the client kept go to the sink (the returned response's body is then
  // empty). A Drop-mode hold that overflowed under a good status is an error:
  // what was dropped is gone.
  Result<http::ClientResponse> finish(Result<http::ClientResponse> resp);

 private:
  Result<void> deliver(std::string_view data);

  std::function<bool(std::string_view)> looks_like_error_;
  ByteSink sink_;
  Overflow overflow_;
  bool first_ = true;
  bool holding_ = false;
  bool dropped_ = false;
  std::string held_;
  std::optional<Error> sink_error_;
};

}  // namespace berth::api::client
