// berth-monitor: published ports on IPv6 host addresses ("proxy" in
// monitor/protocol.h). The relay itself is monitor/proxy.h; this is its
// place in the monitor's life: made on the first request, served from the
// monitor's epoll loop, closed when the container's init exits.
#include <sys/epoll.h>

#include "monitor/server.h"

namespace berth::monitor {

Json Monitor::op_proxy(const Json& req, std::vector<Fd> listeners) {
  if (phase_ != Phase::Created && phase_ != Phase::Running)
    return encode_error(make_error(Errc::FailedPrecondition, "container {} is not running", c_.id));
  auto ports = decode_proxy_request(req);
  if (!ports) return encode_error(ports.error());
  if (ports->size() != listeners.size())
    return encode_error(make_error(Errc::InvalidArgument, "proxy: {} ports but {} sockets",
                                   ports->size(), listeners.size()));
  if (!proxy_) {
    auto p = Proxy::make();
    if (!p) return encode_error(p.error());
    proxy_ = std::move(*p);
    proxy_tok_ = watch(proxy_->fd(), EPOLLIN, Reg{Kind::Proxy, ""});
  }
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& t = (*ports)[i];
    if (auto r = proxy_->add(std::move(listeners[i]), t.ip, t.port); !r)
      return encode_error(std::move(r).error().context(fmt::format("proxy.ports[{}]", i)));
  }
  return Json{{"ok", true}};
}

void Monitor::stop_proxy() {
  if (!proxy_) return;
  unwatch(proxy_tok_, proxy_->fd());
  proxy_.reset();
}

}  // namespace berth::monitor
