// network/dns_message_internal.h — the DNS messages of the embedded server,
// parsed and built with libldns (dns.cc does the sockets). Internal to the
// network module; its tests use it to build queries and fake upstreams.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ldns_struct_pkt;

namespace berth::network::dnsmsg {

struct PktFree {
  void operator()(ldns_struct_pkt* p) const;
};
using Pkt = std::unique_ptr<ldns_struct_pkt, PktFree>;

// A client's query, as the server needs it.
struct Query {
  uint16_t id = 0;
  std::string name;  // lower case, without the final dot ("" for the root)
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t max_udp = 512;  // the reply size the client accepts over UDP (EDNS0)
  Pkt pkt;               // the whole parsed query (its question is echoed)
};

// Parses a query: nullopt for anything to drop (not DNS, a response, an
// opcode other than QUERY, not exactly one question).
std::optional<Query> parse_query(std::string_view wire);

// The answer to `q` from `addrs` (IPv4 and IPv6 text; A queries get the
// IPv4 ones, AAAA the IPv6 ones, other types none), NOERROR, TTL 600, QR and
// RA set, RD copied. When it exceeds `max_size` bytes the answers are left
// out and TC is set (the client retries over TCP).
std::string answer(const Query& q, const std::vector<std::string>& addrs, size_t max_size);

// An empty reply to `q` with `rcode` (LDNS_RCODE_SERVFAIL...).
std::string error_reply(const Query& q, int rcode);

// `wire` with its message ID replaced (wire is at least 2 bytes).
std::string with_id(std::string_view wire, uint16_t id);

// True when `wire` is a well-formed response with ID `id` to a question
// for `q`'s name, type and class (what a forwarded query waits for).
bool is_response_to(std::string_view wire, uint16_t id, const Query& q);

}  // namespace berth::network::dnsmsg
