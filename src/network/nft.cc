// network/nft.cc — renders berth's ruleset as one nft script and runs it
// through libnftables.
//
// The script replaces the tables in one transaction: `add table` + `delete
// table` first (the add makes the delete valid whether or not the table
// exists, and nft applies the whole buffer atomically or not at all), then
// the full `table ... { }` block. Everything interpolated into the script is
// validated first (interface names, addresses, protocols), so engine data
// can never inject nft syntax.
#include "network/nft.h"

#include <nftables/libnftables.h>

#include <memory>
#include <mutex>
#include <set>

#include "base/strings.h"
#include "network/ipam.h"
#include "network/nft_internal.h"

namespace berth::network {
namespace {

enum class Family { V4, V6 };

bool valid_ifname(const std::string& s) {
  if (s.empty() || s.size() > 15) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool valid_table(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool valid_proto(const std::string& p) { return p == "tcp" || p == "udp" || p == "sctp"; }

// The family of a bare address, or nullopt.
std::optional<Family> family_of(const std::string& ip) {
  auto b = parse_ip(ip);
  if (!b) return std::nullopt;
  return b->size() == 4 ? Family::V4 : Family::V6;
}

bool is_any(const std::string& host_ip) {
  return host_ip.empty() || host_ip == "0.0.0.0" || host_ip == "::";
}

// A subnet of `f` in canonical text, or "" when absent / not of that family.
std::string subnet_of(const NftNetwork& n, Family f) {
  const std::string& s = f == Family::V4 ? n.subnet4 : n.subnet6;
  auto c = parse_cidr(s);
  if (!c || c->v6 != (f == Family::V6)) return "";
  return c->str();
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string set_of(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back(quoted(n));
  return "{ " + join(q, ", ") + " }";
}

// The DNAT rule of one port in family `f`, or "" when it belongs elsewhere
// (other family) or cannot be expressed (a host_ip of the other family:
// nftables NAT cannot translate between families).
std::string port_rule(const NftPort& p, Family f) {
  if (!valid_proto(p.proto) || p.host_port == 0 || p.container_port == 0) return "";
  auto cf = family_of(p.container_ip);
  if (!cf || *cf != f) return "";
  const char* ip = f == Family::V4 ? "ip" : "ip6";
  std::string daddr;
  if (!is_any(p.host_ip)) {
    auto hf = family_of(p.host_ip);
    if (!hf || *hf != f) return "";
    daddr = fmt::format("{} daddr {} ", ip, format_ip(*parse_ip(p.host_ip)));
  }
  std::string to = format_ip(*parse_ip(p.container_ip));
  if (f == Family::V6) to = "[" + to + "]";
  return fmt::format("{}{} dport {} dnat to {}:{}", daddr, p.proto, p.host_port, to,
                     p.container_port);
}

std::string render_table(const NftRuleset& r, const std::string& table, Family f) {
  const char* ip = f == Family::V4 ? "ip" : "ip6";
  std::vector<std::string> bridges;  // every valid berth bridge, once, in order
  std::set<std::string> seen;
  for (const auto& n : r.networks) {
    if (valid_ifname(n.bridge) && seen.insert(n.bridge).second) bridges.push_back(n.bridge);
  }

  std::string s = fmt::format("table {} {} {{\n", ip, table);

  s += "\tchain ports {\n";
  for (const auto& p : r.ports) {
    std::string rule = port_rule(p, f);
    if (!rule.empty()) s += "\t\t" + rule + "\n";
  }
  s += "\t}\n";

  // Only local destinations are published (docker's DOCKER chain is jumped
  // to for ADDRTYPE LOCAL too): forwarded traffic to other hosts is left
  // alone.
  s += "\tchain prerouting {\n";
  s += "\t\ttype nat hook prerouting priority dstnat; policy accept;\n";
  s += "\t\tfib daddr type local jump ports\n";
  s += "\t}\n";
  s += "\tchain output {\n";
  s += "\t\ttype nat hook output priority -100; policy accept;\n";
  s += "\t\tfib daddr type local jump ports\n";
  s += "\t}\n";

  s += "\tchain postrouting {\n";
  s += "\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
  for (const auto& n : r.networks) {
    if (!valid_ifname(n.bridge)) continue;
    std::string br = quoted(n.bridge);
    // localhost -> published port: the container cannot answer 127.0.0.1
    // (route_localnet lets the packet out; this rewrites its source). IPv6
    // has no equivalent: ::1 is never routed.
    if (f == Family::V4) s += fmt::format("\t\toifname {} ip saddr 127.0.0.0/8 masquerade\n", br);
    std::string subnet = subnet_of(n, f);
    if (subnet.empty()) continue;
    // Hairpin: a container reaching a published port of its own bridge
    // must see the reply come back through the host, not straight over L2.
    s += fmt::format("\t\toifname {} ct status dnat {} saddr {} masquerade\n", br, ip, subnet);
    if (!n.internal) {
      s += fmt::format("\t\t{} saddr {} oifname != {} masquerade\n", ip, subnet, br);
    }
  }
  s += "\t}\n";

  // policy accept: this chain only drops what berth must keep apart; any
  // other base chain (a host firewall) still sees every packet.
  s += "\tchain forward {\n";
  s += "\t\ttype filter hook forward priority filter; policy accept;\n";
  for (const auto& n : r.networks) {
    if (!n.internal || !valid_ifname(n.bridge)) continue;
    std::string br = quoted(n.bridge);
    s += fmt::format("\t\tiifname {} oifname != {} drop\n", br, br);
    s += fmt::format("\t\toifname {} iifname != {} drop\n", br, br);
  }
  if (!bridges.empty()) s += fmt::format("\t\toifname {} ct status dnat accept\n", set_of(bridges));
  for (const auto& b : bridges) {
    std::vector<std::string> others;
    for (const auto& o : bridges) {
      if (o != b) others.push_back(o);
    }
    if (!others.empty()) {
      s += fmt::format("\t\tiifname {} oifname {} drop\n", quoted(b), set_of(others));
    }
  }
  s += "\t}\n";
  s += "}\n";
  return s;
}

bool has_v6_content(const NftRuleset& r) {
  for (const auto& n : r.networks) {
    if (valid_ifname(n.bridge) && !subnet_of(n, Family::V6).empty()) return true;
  }
  for (const auto& p : r.ports) {
    if (!port_rule(p, Family::V6).empty()) return true;
  }
  return false;
}

std::string drop_tables(const std::string& table) {
  return fmt::format(
      "add table ip {0}\ndelete table ip {0}\nadd table ip6 {0}\ndelete table ip6 {0}\n", table);
}

Result<void> validate(const NftRuleset& r, const std::string& table) {
  if (!valid_table(table)) {
    return make_error(Errc::InvalidArgument, "nftables: invalid table name \"{}\"", table);
  }
  for (const auto& n : r.networks) {
    if (!valid_ifname(n.bridge)) {
      return make_error(Errc::InvalidArgument, "nftables: invalid bridge name \"{}\"", n.bridge);
    }
    if (!n.subnet4.empty() && subnet_of(n, Family::V4).empty()) {
      return make_error(Errc::InvalidArgument, "nftables: invalid IPv4 subnet \"{}\"", n.subnet4);
    }
    if (!n.subnet6.empty() && subnet_of(n, Family::V6).empty()) {
      return make_error(Errc::InvalidArgument, "nftables: invalid IPv6 subnet \"{}\"", n.subnet6);
    }
  }
  for (const auto& p : r.ports) {
    if (!valid_proto(p.proto)) {
      return make_error(Errc::InvalidArgument, "nftables: invalid protocol \"{}\"", p.proto);
    }
    if (!family_of(p.container_ip)) {
      return make_error(Errc::InvalidArgument, "nftables: invalid container address \"{}\"",
                        p.container_ip);
    }
    if (!is_any(p.host_ip) && !family_of(p.host_ip)) {
      return make_error(Errc::InvalidArgument, "nftables: invalid host address \"{}\"", p.host_ip);
    }
    if (p.host_port == 0 || p.container_port == 0) {
      return make_error(Errc::InvalidArgument, "nftables: port 0 for {}", p.container_ip);
    }
  }
  return ok();
}

// libnftables keeps state in its context and is not documented as safe for
// concurrent use; one mutex serialises every run (and every change to
// berth's tables, which must be applied in order anyway).
std::mutex& nft_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

std::string render_ruleset(const NftRuleset& r, const std::string& table) {
  if (!valid_table(table)) return "";
  std::string s = drop_tables(table);
  s += render_table(r, table, Family::V4);
  if (has_v6_content(r)) s += render_table(r, table, Family::V6);
  return s;
}

Result<void> run_nft_script(const std::string& script) {
  std::lock_guard lock(nft_mutex());
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
  if (!ctx) return make_error(Errc::Internal, "nftables: cannot create a context");
  // Buffered: libnftables would otherwise print to berthd's stdout/stderr.
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return make_error(Errc::Internal, "nftables: cannot buffer output");
  }
  if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    const char* e = nft_ctx_get_error_buffer(ctx.get());
    std::string msg(trim(e ? e : ""));
    if (msg.empty()) msg = "command failed";
    Errc code = msg.find("Operation not permitted") != std::string::npos ? Errc::PermissionDenied
                                                                         : Errc::Io;
    return Error{code, 0, "nftables: " + msg};
  }
  return ok();
}

Result<void> apply_ruleset(const NftRuleset& r, const std::string& table) {
  BERTH_TRY(validate(r, table));
  return run_nft_script(render_ruleset(r, table));
}

Result<void> remove_ruleset(const std::string& table) {
  if (!valid_table(table)) {
    return make_error(Errc::InvalidArgument, "nftables: invalid table name \"{}\"", table);
  }
  return run_nft_script(drop_tables(table));
}

}  // namespace berth::network
