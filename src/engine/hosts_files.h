// engine/hosts_files.h — the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, generated on the host and bind-mounted (spec_builder.h).
//
// hosts: docker's localhost block (127.0.0.1 localhost, ::1 localhost
// ip6-localhost ip6-loopback, fe00::0 ip6-localnet, ff00::0 ip6-mcastprefix,
// ff02::1 ip6-allnodes, ff02::2 ip6-allrouters), then --add-host entries
// ("name:ip" or "name=ip", ip may be "[v6]" or "host-gateway"), then the
// container's own line "<ip>\t<hostname>[.<domain>] <hostname>" (ip =
// 127.0.0.1 until issue 5 gives containers an address).
// resolv.conf: docker's rule — the host's file (systemd-resolved's upstream
// file when the host points at the 127.0.0.53 stub) with localhost and
// IPv6 nameservers removed (containers have no IPv6 yet, as on docker's
// default bridge); none left -> 8.8.8.8 and 8.8.4.4; --dns,
// --dns-search ("." = no search) and --dns-option each replace their part.
// Files are written temp -> fsync -> rename, and only when their content
// changes.
// Depends on: base.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::engine {

std::string hostname_content(const std::string& hostname);

// InvalidArgument naming --add-host for a malformed entry or bad IP
// ("invalid IP address in add-host: \"x\""); host-gateway without a
// configured gateway IP is InvalidArgument too.
// `links`: (ip, "alias hostname name") lines of --link, after --add-host's.
Result<std::string> hosts_content(
    const std::string& hostname, const std::string& domainname,
    const std::vector<std::string>& extra_hosts, const std::string& container_ip = "127.0.0.1",
    const std::string& host_gateway_ip = "",
    const std::vector<std::pair<std::string, std::string>>& links = {});

struct DnsOverrides {
  std::vector<std::string> dns, dns_search, dns_options;
  // On a user network: the embedded server 127.0.0.11 is the only nameserver
  // (the --dns servers become its upstreams for this container) and
  // "ndots:0" is added unless an ndots option is given (docker's file).
  bool embedded = false;
};
// `host_resolv` is the host's resolv.conf text. InvalidArgument for a --dns
// value that is not an IP address.
Result<std::string> resolv_conf_content(std::string_view host_resolv, const DnsOverrides& o);

// Reads the host's resolv.conf: /etc/resolv.conf, or
// /run/systemd/resolve/resolv.conf when /etc's only nameserver is
// 127.0.0.53. Missing file = "" (then the defaults apply).
std::string read_host_resolv_conf(
    const std::string& etc_resolv = "/etc/resolv.conf",
    const std::string& systemd_resolv = "/run/systemd/resolve/resolv.conf");

struct HostsFilesInput {
  std::string
      dir;  // containers/<id>/: files are written as dir/hostname, dir/hosts, dir/resolv.conf
  std::string hostname, domainname;
  std::vector<std::string> extra_hosts;
  DnsOverrides dns;
  std::string host_resolv;  // read_host_resolv_conf()
  std::string container_ip = "127.0.0.1";
  std::string host_gateway_ip;
  std::vector<std::pair<std::string, std::string>> links;  // (ip, names) of --link
  // dir is new and nothing refers to it yet (create, before the container's
  // record): the files are written directly (base/file.h write_new_file).
  bool fresh_dir = false;
};
struct HostsFilesPaths {
  std::string hostname, hosts, resolv_conf;
};
// Validates everything first, then writes the three files atomically (renamed
// into place, not fsynced: the caller rewrites them if a power loss ate them),
// or, in a fresh_dir, directly.
Result<HostsFilesPaths> write_hosts_files(const HostsFilesInput& in);

}  // namespace berth::engine
