// network/ipam.cc — address arithmetic behind ipam.h.
//
// Addresses are handled as 128-bit integers (IPv4 in the low 32 bits) so one
// code path serves both families; text <-> bytes goes through inet_pton(3) /
// inet_ntop(3).
#include "network/ipam.h"

#include <arpa/inet.h>

#include <fmt/format.h>

#include "base/strings.h"

namespace berth::network {
namespace {

using U128 = unsigned __int128;

int width(bool v6) { return v6 ? 128 : 32; }

U128 to_int(const std::vector<uint8_t>& b) {
  U128 v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

std::vector<uint8_t> to_bytes(U128 v, bool v6) {
  std::vector<uint8_t> b(v6 ? 16 : 4);
  for (size_t i = b.size(); i-- > 0;) {
    b[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return b;
}

// The host-bits mask of a prefix: all ones below the prefix. Written without
// shifting by the full width, which C++ leaves undefined.
U128 host_mask(int prefix, bool v6) {
  int bits = width(v6) - prefix;
  if (bits <= 0) return 0;
  if (bits >= 128) return ~U128{0};
  return (U128{1} << bits) - 1;
}

U128 network_of(U128 a, int prefix, bool v6) { return a & ~host_mask(prefix, v6); }

Cidr make_cidr(U128 net, int prefix, bool v6) {
  Cidr c;
  c.v6 = v6;
  c.addr = to_bytes(net, v6);
  c.prefix = prefix;
  return c;
}

// The usable host range of a subnet. IPv4 skips the network and broadcast
// addresses except in /31 (RFC 3021 point-to-point) and /32; IPv6 has no
// broadcast and skips only the subnet-router anycast address (the network
// address, RFC 4291 2.6.1), again except for /127 and /128.
struct HostRange {
  U128 first;
  U128 last;
};
HostRange host_range(const Cidr& c) {
  U128 net = to_int(c.addr);
  U128 last = net | host_mask(c.prefix, c.v6);
  int host_bits = width(c.v6) - c.prefix;
  if (host_bits <= 1) return {net, last};
  if (c.v6) return {net + 1, last};
  return {net + 1, last - 1};
}

}  // namespace

std::vector<std::string> network_and_broadcast(const Cidr& subnet) {
  int host_bits = width(subnet.v6) - subnet.prefix;
  if (host_bits <= 1) return {};
  U128 net = to_int(subnet.addr);
  std::vector<std::string> out{format_ip(to_bytes(net, subnet.v6))};
  if (!subnet.v6) out.push_back(format_ip(to_bytes(net | host_mask(subnet.prefix, false), false)));
  return out;
}

std::string Cidr::str() const { return fmt::format("{}/{}", format_ip(addr), prefix); }

bool Cidr::contains(const std::string& ip) const {
  auto b = parse_ip(ip);
  if (!b || b->size() != addr.size()) return false;
  return network_of(to_int(*b), prefix, v6) == to_int(addr);
}

Result<std::vector<uint8_t>> parse_ip(const std::string& s) {
  unsigned char buf[16];
  if (::inet_pton(AF_INET, s.c_str(), buf) == 1) return std::vector<uint8_t>(buf, buf + 4);
  if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) return std::vector<uint8_t>(buf, buf + 16);
  return make_error(Errc::InvalidArgument, "invalid IP address \"{}\"", s);
}

std::string format_ip(const std::vector<uint8_t>& bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (bytes.size() == 4) return ::inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  if (bytes.size() == 16) return ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return "";
}

Result<Cidr> parse_cidr(const std::string& s) {
  auto invalid = [&] { return make_error(Errc::InvalidArgument, "invalid subnet \"{}\"", s); };
  size_t slash = s.find('/');
  if (slash == std::string::npos) return invalid();
  auto ip = parse_ip(s.substr(0, slash));
  if (!ip) return invalid();
  std::string_view len = std::string_view(s).substr(slash + 1);
  // parse_uint would accept "+8" or " 8" depending on its implementation;
  // the prefix must be plain digits.
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != len.npos) {
    return invalid();
  }
  auto prefix = parse_uint(len);
  bool v6 = ip->size() == 16;
  if (!prefix || *prefix > static_cast<unsigned long long>(width(v6))) return invalid();
  int p = static_cast<int>(*prefix);
  return make_cidr(network_of(to_int(*ip), p, v6), p, v6);
}

bool overlaps(const Cidr& a, const Cidr& b) {
  if (a.v6 != b.v6 || a.addr.size() != b.addr.size()) return false;
  int p = std::min(a.prefix, b.prefix);
  return network_of(to_int(a.addr), p, a.v6) == network_of(to_int(b.addr), p, b.v6);
}

std::vector<Pool> default_pools() {
  std::vector<Pool> pools;
  for (int i = 17; i <= 31; ++i) pools.push_back({fmt::format("172.{}.0.0/16", i), 16});
  pools.push_back({"192.168.0.0/16", 20});
  return pools;
}

Result<Cidr> pick_subnet(const std::vector<Pool>& pools, const std::vector<Cidr>& taken) {
  for (const Pool& pool : pools) {
    Cidr base = BERTH_TRY_CTX(parse_cidr(pool.base), "address pool");
    if (pool.size < base.prefix || pool.size > width(base.v6)) {
      return make_error(Errc::InvalidArgument, "address pool {}: invalid size {}", pool.base,
                        pool.size);
    }
    const U128 base_last = to_int(base.addr) | host_mask(base.prefix, base.v6);
    U128 cand = to_int(base.addr);
    // Each round either returns, or skips past one taken prefix: a taken
    // prefix larger than a candidate is jumped over whole, a smaller one
    // overlaps exactly one candidate. So the loop is bounded by the size of
    // `taken` plus one, whatever the size of the pool.
    for (size_t round = 0; round <= 2 * taken.size() + 1; ++round) {
      Cidr c = make_cidr(cand, pool.size, base.v6);
      U128 next = cand | host_mask(pool.size, base.v6);  // last address of c
      bool clash = false;
      for (const Cidr& t : taken) {
        if (!overlaps(c, t)) continue;
        clash = true;
        if (t.prefix < pool.size) {
          U128 t_last = to_int(t.addr) | host_mask(t.prefix, t.v6);
          if (t_last > next) next = t_last;
        }
      }
      if (!clash) return c;
      if (next >= base_last) break;  // also stops before wrapping past ::/0
      cand = next + 1;
    }
  }
  return make_error(Errc::NotFound,
                    "could not find an available, non-overlapping IPv4 address pool among the "
                    "defaults to assign to the network");
}

std::string first_host(const Cidr& subnet) {
  return format_ip(to_bytes(host_range(subnet).first, subnet.v6));
}

Result<std::string> next_free_ip(const Cidr& subnet, const std::set<std::string>& used,
                                 const std::string& last) {
  std::set<U128> taken;
  for (const std::string& u : used) {
    // Compared as numbers: "fd00::02" and "fd00::2" are one address.
    if (auto b = parse_ip(u); b && b->size() == subnet.addr.size()) taken.insert(to_int(*b));
  }
  HostRange r = host_range(subnet);
  U128 start = r.first;
  if (auto b = parse_ip(last); b && b->size() == subnet.addr.size()) {
    U128 l = to_int(*b);
    if (l >= r.first && l < r.last) start = l + 1;
  }
  // At most |taken| + 1 candidates can be examined before a free one shows
  // up, unless the range is smaller than that (then every address is tried).
  U128 range_size = r.last - r.first;  // one less than the count; never overflows
  U128 tries = std::min<U128>(range_size, taken.size()) + 1;
  U128 cand = start;
  for (U128 i = 0; i < tries; ++i) {
    if (!taken.count(cand)) return format_ip(to_bytes(cand, subnet.v6));
    cand = cand == r.last ? r.first : cand + 1;
  }
  return make_error(Errc::NotFound,
                    "no available IPv{} addresses on this network's address pools: ({})",
                    subnet.v6 ? 6 : 4, subnet.str());
}

std::string mac_from_ip(const std::string& ipv4) {
  auto b = parse_ip(ipv4);
  if (!b || b->size() != 4) return "";
  return fmt::format("02:42:{:02x}:{:02x}:{:02x}:{:02x}", (*b)[0], (*b)[1], (*b)[2], (*b)[3]);
}

}  // namespace berth::network
