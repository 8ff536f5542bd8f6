// api/server/router.h — the Docker Engine API over an http::Handler.
//
// Routes are matched with or without a "/v1.NN" prefix. Versions from 1.24
// to 1.47 are served (no prefix = 1.47); others get docker's 400 ("client
// version 1.99 is too new. Maximum supported API version is 1.47"). Every
// response carries Api-Version (the server's maximum, as dockerd sends),
// Server, Ostype and Docker-Experimental headers. Errors are docker's body
// {"message": "..."} with the status of the Errc (see status_for_errc).
// Image names contain '/', so /images/{name}/json|history|tag|push|get are
// matched on their suffix, as docker's {name:.*} does.
// Thread-safety: handle() runs concurrently on the connections' threads.
// Depends on: base, http, api/types, engine.
#pragma once

#include <string>

#include "base/result.h"
#include "engine/engine.h"
#include "http/server.h"

namespace berth::api::server {

struct RouterOptions {
  std::string server_header = "Berth/0.1.0 (linux)";
  bool experimental = false;
};

// Errc -> HTTP status: InvalidArgument 400, PermissionDenied 403, NotFound
// 404, AlreadyExists/Conflict 409, NotImplemented 501, Unavailable 503, else 500.
int status_for_errc(Errc c);

class Router {
 public:
  Router(engine::Engine& engine, RouterOptions opts);
  void handle(http::Request& req, http::Response& res);
  http::Handler handler() {
    return [this](http::Request& q, http::Response& r) { handle(q, r); };
  }

 private:
  engine::Engine& engine_;
  RouterOptions opts_;
};

}  // namespace berth::api::server
