// cli/port_spec.cc — -p / --expose parsing (see port_spec.h).
#include "cli/port_spec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace berth::cli {

namespace {

struct Range {
  int lo = 0, hi = 0;
};

// "80" or "80-81", each 1..65535 (0 only where `allow_zero`).
Result<Range> parse_range(const std::string& s, const char* what) {
  auto bad = [&] { return make_error(Errc::InvalidArgument, "invalid {}: {}", what, s); };
  auto num = [&](const std::string& t, int& out) -> bool {
    if (t.empty() || t.size() > 5 || !std::all_of(t.begin(), t.end(), ::isdigit)) return false;
    out = std::stoi(t);
    return out >= 1 && out <= 65535;
  };
  Range r;
  auto dash = s.find('-');
  if (dash == std::string::npos) {
    if (!num(s, r.lo)) return bad();
    r.hi = r.lo;
    return r;
  }
  if (!num(s.substr(0, dash), r.lo) || !num(s.substr(dash + 1), r.hi) || r.hi < r.lo) return bad();
  return r;
}

bool valid_ip(const std::string& ip) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, ip.c_str(), buf) == 1 || ::inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

Result<std::string> parse_proto(const std::string& p) {
  std::string l = p;
  for (auto& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (l != "tcp" && l != "udp" && l != "sctp")
    return make_error(Errc::InvalidArgument, "invalid proto: {}", p);
  return l;
}

}  // namespace

Result<std::vector<PublishedPort>> parse_publish(const std::string& spec) {
  std::string rest = spec;
  std::string proto = "tcp";
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    proto = BERTH_TRY(parse_proto(rest.substr(slash + 1)));
    rest = rest.substr(0, slash);
  }
  std::string ip, host, ctr;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos)
      return make_error(Errc::InvalidArgument, "invalid IP address: {}", rest);
    ip = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (rest.empty() || rest[0] != ':')
      return make_error(Errc::InvalidArgument, "invalid port format: {}", spec);
    rest = rest.substr(1);
    auto colon = rest.find(':');
    if (colon == std::string::npos) {
      ctr = rest;
    } else {
      host = rest.substr(0, colon);
      ctr = rest.substr(colon + 1);
    }
    if (!valid_ip(ip)) return make_error(Errc::InvalidArgument, "invalid IP address: {}", ip);
  } else {
    size_t n = std::count(rest.begin(), rest.end(), ':');
    if (n > 2) return make_error(Errc::InvalidArgument, "invalid port format: {}", spec);
    auto a = rest.find(':');
    if (n == 0) {
      ctr = rest;
    } else if (n == 1) {
      host = rest.substr(0, a);
      ctr = rest.substr(a + 1);
    } else {
      auto b = rest.find(':', a + 1);
      ip = rest.substr(0, a);
      host = rest.substr(a + 1, b - a - 1);
      ctr = rest.substr(b + 1);
      if (!ip.empty() && !valid_ip(ip))
        return make_error(Errc::InvalidArgument, "invalid IP address: {}", ip);
    }
  }
  if (ctr.empty()) return make_error(Errc::InvalidArgument, "no port specified: {}<empty>", spec);
  Range c = BERTH_TRY(parse_range(ctr, "containerPort"));
  Range h;
  if (!host.empty()) h = BERTH_TRY(parse_range(host, "hostPort"));
  int clen = c.hi - c.lo, hlen = h.hi - h.lo;
  if (!host.empty() && clen > 0 && hlen != clen) {
    return make_error(Errc::InvalidArgument,
                      "invalid ranges specified for container and host Ports: {} and {}", ctr,
                      host);
  }
  std::vector<PublishedPort> out;
  for (int p = c.lo; p <= c.hi; ++p) {
    PublishedPort pp;
    pp.port = std::to_string(p) + "/" + proto;
    pp.host_ip = ip;
    if (!host.empty()) {
      if (clen == 0) {
        pp.host_port = hlen == 0 ? std::to_string(h.lo) : host;
      } else {
        pp.host_port = std::to_string(h.lo + (p - c.lo));
      }
    }
    out.push_back(std::move(pp));
  }
  return out;
}

Result<std::vector<std::string>> parse_expose(const std::string& spec) {
  std::string rest = spec;
  std::string proto = "tcp";
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    proto = BERTH_TRY(parse_proto(rest.substr(slash + 1)));
    rest = rest.substr(0, slash);
  }
  if (rest.find(':') != std::string::npos)
    return make_error(Errc::InvalidArgument, "invalid port format for --expose: {}", spec);
  Range r = BERTH_TRY(parse_range(rest, "range for --expose"));
  std::vector<std::string> out;
  for (int p = r.lo; p <= r.hi; ++p) out.push_back(std::to_string(p) + "/" + proto);
  return out;
}

}  // namespace berth::cli
