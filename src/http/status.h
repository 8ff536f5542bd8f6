// http/status.h — berth's error codes as HTTP statuses (docker's mapping),
// shared by the Engine API server and the dashboard listener.
// Depends on: base.
#pragma once

#include "base/result.h"

namespace berth::http {

// InvalidArgument 400, PermissionDenied 403, NotFound 404,
// AlreadyExists/Conflict 409, NotImplemented 501, Unavailable 503, else 500.
int status_for_errc(Errc c);

}  // namespace berth::http
