// network/dns.h — the embedded DNS server of user networks (docker's
// 127.0.0.11): answers container names and aliases, forwards the rest.
//
// berthd creates, inside each container's network namespace, a UDP and a TCP
// socket bound to 127.0.0.11:53 (bound_socket_in_netns) and hands them to the
// server with a tag (the container id). A query arriving on a tagged socket
// is answered from `lookup(tag, name)`: a name it knows gets its A / AAAA
// records (TTL 600, as docker) — an empty answer with NOERROR when it has none
// of the asked type; a name it does not know is forwarded to the upstream
// resolvers (UDP, 2 s per try, each upstream in turn; TCP queries forwarded
// over TCP) and the upstream's answer relayed; SERVFAIL when none answers.
// Packets are parsed and built with libldns; malformed queries are dropped
// (UDP) or the connection closed (TCP); nothing a container sends can make
// the server block or crash.
// Thread-safety: one server thread (epoll); add/remove/set_upstreams may be
// called from any thread.
// Depends on: base, sys, libldns.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace berth::network {

// Addresses (IPv4 and IPv6 text) for `name` as seen from the container
// `tag`, or nullopt when the name is not a container/alias on its networks
// (then the query is forwarded). `name` is lower case without the final dot.
// Called on the server thread with the server's lock held: it must be quick
// and must not call back into the DnsServer (add/remove/set_upstreams).
using DnsLookup = std::function<std::optional<std::vector<std::string>>(const std::string& tag,
                                                                        const std::string& name)>;

class DnsServer {
 public:
  // `upstreams`: "ip" or "ip:port" (IPv4, or IPv6 in brackets with a port).
  static Result<std::unique_ptr<DnsServer>> start(DnsLookup lookup,
                                                  std::vector<std::string> upstreams);
  ~DnsServer();  // stops the thread, closes every socket

  // Serves the container `tag` on these sockets (either may be invalid).
  // Replaces what `tag` had. `upstreams`, when not empty, replace the
  // server's for the names this container asks that are not containers'.
  void add(const std::string& tag, Fd udp, Fd tcp, const std::vector<std::string>& upstreams = {});
  void remove(const std::string& tag);
  void set_upstreams(std::vector<std::string> upstreams);

  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  struct Impl;

 private:
  explicit DnsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The nameservers of a resolv.conf text ("nameserver X" lines), in order.
std::vector<std::string> resolv_conf_nameservers(const std::string& text);

}  // namespace berth::network
