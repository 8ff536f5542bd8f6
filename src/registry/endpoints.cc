// registry/endpoints.cc — scheme, insecure and mirror decisions.
#include "registry/endpoints.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cstring>
#include <optional>

#include "base/strings.h"

namespace berth::registry::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Host part of "host", "host:port", "[v6]" or "[v6]:port".
std::string host_of(const std::string& domain) {
  if (!domain.empty() && domain.front() == '[') {
    size_t close = domain.find(']');
    return close == std::string::npos ? domain : domain.substr(1, close - 1);
  }
  size_t colon = domain.find(':');
  return colon == std::string::npos ? domain : domain.substr(0, colon);
}

struct Ip {
  int family = 0;
  std::array<unsigned char, 16> bytes{};
  int bits() const { return family == AF_INET ? 32 : 128; }
};

std::optional<Ip> parse_ip(const std::string& s) {
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    // An IPv4-mapped IPv6 address matches IPv4 CIDRs.
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), mapped, 12) == 0) {
      Ip v4;
      v4.family = AF_INET;
      std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
      return v4;
    }
    return ip;
  }
  return std::nullopt;
}

bool cidr_contains(const std::string& cidr, const Ip& ip) {
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  auto net = parse_ip(cidr.substr(0, slash));
  auto len = parse_int(cidr.substr(slash + 1));
  if (!net || !len || net->family != ip.family || *len < 0 || *len > net->bits()) return false;
  int n = static_cast<int>(*len);
  for (int i = 0; i < n / 8; ++i)
    if (net->bytes[i] != ip.bytes[i]) return false;
  if (n % 8) {
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - n % 8));
    if ((net->bytes[n / 8] & mask) != (ip.bytes[n / 8] & mask)) return false;
  }
  return true;
}

bool is_loopback(const std::string& host) {
  if (lower(host) == "localhost") return true;
  auto ip = parse_ip(host);
  if (!ip) return false;
  if (ip->family == AF_INET) return ip->bytes[0] == 127;
  static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip->bytes.data(), one, 16) == 0;
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

bool is_insecure(const Options& o, const std::string& domain) {
  std::string d = lower(domain);
  std::string host = host_of(d);
  if (is_loopback(host)) return true;
  auto ip = parse_ip(host);
  for (const auto& entry : o.insecure_registries) {
    std::string e = lower(strip_slash(std::string(trim(entry))));
    // docker accepts "http://host:port" in the list and strips the scheme.
    for (std::string_view scheme : {"http://", "https://"})
      if (starts_with(e, scheme)) e = e.substr(scheme.size());
    if (e == d || e == host) return true;
    if (ip && e.find('/') != std::string::npos && cidr_contains(e, *ip)) return true;
  }
  return false;
}

std::string origin_url(const Options& o, const std::string& domain) {
  if (domain == oci::kDockerHubDomain) return strip_slash(o.hub_registry_url);
  return (is_insecure(o, domain) ? "http://" : "https://") + domain;
}

std::vector<Endpoint> read_endpoints(const Options& o, const std::string& domain) {
  std::vector<Endpoint> out;
  if (auto it = o.mirrors.find(domain); it != o.mirrors.end()) {
    for (const auto& m : it->second) {
      std::string base = strip_slash(m);
      if (base.empty()) continue;
      if (base.find("://") == std::string::npos)
        base = (is_insecure(o, base) ? "http://" : "https://") + base;
      out.push_back({base, true});
    }
  }
  out.push_back({origin_url(o, domain), false});
  return out;
}

}  // namespace berth::registry::detail
