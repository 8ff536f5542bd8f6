// api/client/dashboard_probe.h — asks berthd's dashboard listener whether
// it answers (for `berth doctor`): GET /api/berth/session with the header
// the dashboard requires, on tcp://HOST:PORT.
// Depends on: base, http.
#pragma once

#include <string>

#include "base/json.h"
#include "base/result.h"

namespace berth::api::client {

// {"login_required": bool, "authenticated": bool} from the dashboard at
// `address` ("tcp://127.0.0.1:9000" or "http://127.0.0.1:9000").
// Unavailable when nothing listens; Internal with the status otherwise.
Result<Json> dashboard_session(const std::string& address, int timeout_seconds = 3);

}  // namespace berth::api::client
