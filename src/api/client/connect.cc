// EngineClient::connect lives apart so unit tests with a fake http::Client
// do not need the Beast implementation linked.
#include "api/client/engine_client.h"

namespace berth::api::client {

Result<std::unique_ptr<EngineClient>> EngineClient::connect(Options opts) {
  opts.host = resolve_host(opts.host);
  http::ClientOptions h;
  h.address = opts.host;
  // docker's tcp:// is plain HTTP unless TLS is configured.
  h.tls = opts.tls;
  auto http = BERTH_TRY(http::Client::create(h));
  return std::make_unique<EngineClient>(std::move(http), std::move(opts));
}

}  // namespace berth::api::client
