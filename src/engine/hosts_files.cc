// hosts_files: /etc/hostname, /etc/hosts and /etc/resolv.conf contents.
#include "engine/hosts_files.h"

#include <algorithm>

#include <arpa/inet.h>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

bool is_ipv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}
bool is_ipv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}
bool is_ip(const std::string& s) { return is_ipv4(s) || is_ipv6(s); }

bool is_localhost_ns(const std::string& ip) {
  if (is_ipv4(ip)) return starts_with(ip, "127.");
  if (is_ipv6(ip)) {
    in6_addr a;
    inet_pton(AF_INET6, ip.c_str(), &a);
    return IN6_IS_ADDR_LOOPBACK(&a);
  }
  return false;
}

struct ParsedResolv {
  std::vector<std::string> nameservers, search, options, other;
};

ParsedResolv parse_resolv(std::string_view text) {
  ParsedResolv r;
  for (auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    if (line[0] == '#' || line[0] == ';') {
      r.other.emplace_back(line);
      continue;
    }
    std::vector<std::string> f;
    for (auto& w : split(std::string(line), ' ', true)) {
      for (auto& w2 : split(w, '\t', true)) f.push_back(w2);
    }
    if (f.empty()) continue;
    const std::string& key = f[0];
    std::vector<std::string> vals(f.begin() + 1, f.end());
    if (key == "nameserver") {
      if (!vals.empty()) r.nameservers.push_back(vals[0]);
    } else if (key == "search" || key == "domain") {
      r.search = vals;  // the last search/domain line wins, as in resolver(5)
    } else if (key == "options") {
      r.options.insert(r.options.end(), vals.begin(), vals.end());
    } else {
      r.other.emplace_back(line);
    }
  }
  return r;
}

}  // namespace

std::string hostname_content(const std::string& hostname) { return hostname + "\n"; }

Result<std::string> hosts_content(const std::string& hostname, const std::string& domainname,
                                  const std::vector<std::string>& extra_hosts,
                                  const std::string& container_ip,
                                  const std::string& host_gateway_ip,
                                  const std::vector<std::pair<std::string, std::string>>& links) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  for (const std::string& h : extra_hosts) {
    // docker accepts "name:ip" (split at the first ':', so IPv6 works) and
    // "name=ip"; the IP may be bracketed.
    size_t sep = h.find_first_of(":=");
    if (sep == std::string::npos || sep == 0) {
      return make_error(Errc::InvalidArgument, "--add-host: bad format for add-host: \"{}\"", h);
    }
    std::string name = h.substr(0, sep);
    std::string ip = h.substr(sep + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (ip == "host-gateway") {
      if (host_gateway_ip.empty()) {
        return make_error(Errc::InvalidArgument,
                          "--add-host: unable to derive the IP value for host-gateway (\"{}\")", h);
      }
      ip = host_gateway_ip;
    }
    if (!is_ip(ip)) {
      return make_error(Errc::InvalidArgument, "invalid IP address in add-host: \"{}\"", ip);
    }
    if (name.find_first_of(" \t\n") != std::string::npos) {
      return make_error(Errc::InvalidArgument, "--add-host: bad host name in \"{}\"", h);
    }
    out += ip + "\t" + name + "\n";
  }
  for (const auto& [ip, names] : links) out += ip + "\t" + names + "\n";
  if (!container_ip.empty() && !hostname.empty()) {
    out += container_ip + "\t";
    if (!domainname.empty()) out += hostname + "." + domainname + " ";
    out += hostname + "\n";
  }
  return out;
}

Result<std::string> resolv_conf_content(std::string_view host_resolv, const DnsOverrides& o) {
  for (const std::string& d : o.dns) {
    if (!is_ip(d)) return make_error(Errc::InvalidArgument, "--dns: {} is not an ip address", d);
  }
  for (const std::string& s : o.dns_search) {
    if (s != "." && (s.empty() || s.find_first_of(" \t\n") != std::string::npos)) {
      return make_error(Errc::InvalidArgument, "--dns-search: invalid domain \"{}\"", s);
    }
  }
  ParsedResolv host = parse_resolv(host_resolv);
  std::vector<std::string> ns;
  if (o.embedded) {
    ns = {"127.0.0.11"};  // --dns servers are the embedded server's upstreams
  } else if (!o.dns.empty()) {
    ns = o.dns;
  } else {
    // docker's rule for a container without IPv6: keep the host's IPv4
    // nameservers that are not loopback (they would point at the
    // container's own loopback), fall back to Google's public DNS.
    for (auto& n : host.nameservers) {
      if (is_ipv4(n) && !is_localhost_ns(n)) ns.push_back(n);
    }
    if (ns.empty()) ns = {"8.8.8.8", "8.8.4.4"};
  }
  std::vector<std::string> search = host.search;
  if (!o.dns_search.empty()) {
    search.clear();
    for (auto& s : o.dns_search)
      if (s != ".") search.push_back(s);
  }
  std::vector<std::string> options = o.dns_options.empty() ? host.options : o.dns_options;
  if (o.embedded && std::none_of(options.begin(), options.end(),
                                 [](const std::string& x) { return x.starts_with("ndots:"); }))
    options.push_back("ndots:0");

  std::string out;
  for (auto& line : host.other) out += line + "\n";
  for (auto& n : ns) out += "nameserver " + n + "\n";
  if (!search.empty()) out += "search " + join(search, " ") + "\n";
  if (!options.empty()) out += "options " + join(options, " ") + "\n";
  return out;
}

std::string read_host_resolv_conf(const std::string& etc_resolv,
                                  const std::string& systemd_resolv) {
  auto etc = read_file(etc_resolv);
  if (!etc) return "";
  ParsedResolv p = parse_resolv(*etc);
  if (p.nameservers.size() == 1 && p.nameservers[0] == "127.0.0.53") {
    auto up = read_file(systemd_resolv);
    if (up) return *up;
  }
  return *etc;
}

namespace {

// A file that already holds `content` is left alone: a start rewrites all
// three, and on a filesystem without a journal every new inode (a temp file)
// costs ext4 a scan for inodes not recently deleted.
Result<void> write_if_changed(const std::string& path, const std::string& content, bool fresh) {
  if (fresh) return write_new_file(path, content, 0644);
  if (auto cur = read_file(path); cur && *cur == content) return {};
  return write_file_atomic(path, content, 0644, Durability::ProcessCrashSafe);
}

}  // namespace

Result<HostsFilesPaths> write_hosts_files(const HostsFilesInput& in) {
  std::string hosts = BERTH_TRY(hosts_content(in.hostname, in.domainname, in.extra_hosts,
                                              in.container_ip, in.host_gateway_ip, in.links));
  std::string resolv = BERTH_TRY(resolv_conf_content(in.host_resolv, in.dns));
  HostsFilesPaths p{in.dir + "/hostname", in.dir + "/hosts", in.dir + "/resolv.conf"};
  BERTH_TRY(write_if_changed(p.hostname, hostname_content(in.hostname), in.fresh_dir));
  BERTH_TRY(write_if_changed(p.hosts, hosts, in.fresh_dir));
  BERTH_TRY(write_if_changed(p.resolv_conf, resolv, in.fresh_dir));
  return p;
}

}  // namespace berth::engine
