// network/dns_message.cc — DNS wire format through libldns (see
// dns_message_internal.h). No byte of a message is parsed by hand: ldns
// decodes and encodes, and LDNS_ID_SET rewrites the ID field.
// ldns's common.h defines `false`/`true` as macros when it thinks the
// compiler lacks bool, which breaks libstdc++ headers included after it: the
// C++ headers come first.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "network/dns_message_internal.h"

#include <ldns/ldns.h>

namespace berth::network::dnsmsg {
namespace {

constexpr uint32_t kTtl = 600;  // docker's embedded DNS answers with 600 s

struct FreeBuf {
  void operator()(uint8_t* p) const { std::free(p); }
};

Pkt from_wire(std::string_view wire) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()) !=
      LDNS_STATUS_OK) {
    return nullptr;
  }
  return Pkt(p);
}

std::string to_wire(const ldns_pkt* p) {
  uint8_t* buf = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK) return "";
  std::unique_ptr<uint8_t, FreeBuf> owned(buf);
  return std::string(reinterpret_cast<char*>(buf), size);
}

const ldns_rr* question_of(const ldns_pkt* p) {
  const ldns_rr_list* q = ldns_pkt_question(p);
  if (!q || ldns_rr_list_rr_count(q) != 1) return nullptr;
  return ldns_rr_list_rr(q, 0);
}

// A reply header + the echoed question; answers are pushed by the caller.
Pkt reply_to(const Query& q, ldns_pkt_rcode rcode) {
  Pkt r(ldns_pkt_new());
  if (!r) return nullptr;
  ldns_pkt_set_id(r.get(), q.id);
  ldns_pkt_set_qr(r.get(), true);
  ldns_pkt_set_opcode(r.get(), LDNS_PACKET_QUERY);
  ldns_pkt_set_rd(r.get(), ldns_pkt_rd(q.pkt.get()));
  ldns_pkt_set_ra(r.get(), true);
  ldns_pkt_set_rcode(r.get(), static_cast<uint8_t>(rcode));
  if (const ldns_rr* question = question_of(q.pkt.get())) {
    ldns_pkt_push_rr(r.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  }
  return r;
}

}  // namespace

void PktFree::operator()(ldns_struct_pkt* p) const { ldns_pkt_free(p); }

std::optional<Query> parse_query(std::string_view wire) {
  Pkt p = from_wire(wire);
  if (!p || ldns_pkt_qr(p.get()) || ldns_pkt_get_opcode(p.get()) != LDNS_PACKET_QUERY) {
    return std::nullopt;
  }
  const ldns_rr* question = question_of(p.get());
  if (!question || ldns_pkt_qdcount(p.get()) != 1) return std::nullopt;
  char* text = ldns_rdf2str(ldns_rr_owner(question));
  if (!text) return std::nullopt;
  std::string name(text);
  std::free(text);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!name.empty() && name.back() == '.') name.pop_back();

  Query q;
  q.id = ldns_pkt_id(p.get());
  q.name = std::move(name);
  q.qtype = static_cast<uint16_t>(ldns_rr_get_type(question));
  q.qclass = static_cast<uint16_t>(ldns_rr_get_class(question));
  if (ldns_pkt_edns(p.get())) q.max_udp = std::max<size_t>(512, ldns_pkt_edns_udp_size(p.get()));
  q.pkt = std::move(p);
  return q;
}

std::string answer(const Query& q, const std::vector<std::string>& addrs, size_t max_size) {
  Pkt r = reply_to(q, LDNS_RCODE_NOERROR);
  const ldns_rr* question = question_of(q.pkt.get());
  if (!r || !question) return "";
  ldns_rdf_type rdf_type;
  if (q.qtype == LDNS_RR_TYPE_A) {
    rdf_type = LDNS_RDF_TYPE_A;
  } else if (q.qtype == LDNS_RR_TYPE_AAAA) {
    rdf_type = LDNS_RDF_TYPE_AAAA;
  } else {
    return to_wire(r.get());  // a known name without records of that type
  }
  for (const std::string& a : addrs) {
    // ldns decides whether the text is an address of the asked family.
    ldns_rdf* data = ldns_rdf_new_frm_str(rdf_type, a.c_str());
    if (!data) continue;
    ldns_rr* rr = ldns_rr_new();
    if (!rr) {
      ldns_rdf_deep_free(data);
      continue;
    }
    ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(question)));
    ldns_rr_set_type(rr, static_cast<ldns_rr_type>(q.qtype));
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, kTtl);
    ldns_rr_push_rdf(rr, data);
    ldns_pkt_push_rr(r.get(), LDNS_SECTION_ANSWER, rr);
  }
  std::string wire = to_wire(r.get());
  if (wire.size() <= max_size) return wire;
  Pkt tc = reply_to(q, LDNS_RCODE_NOERROR);
  if (!tc) return "";
  ldns_pkt_set_tc(tc.get(), true);
  return to_wire(tc.get());
}

std::string error_reply(const Query& q, int rcode) {
  Pkt r = reply_to(q, static_cast<ldns_pkt_rcode>(rcode));
  return r ? to_wire(r.get()) : "";
}

std::string with_id(std::string_view wire, uint16_t id) {
  std::string out(wire);
  if (out.size() >= 2) LDNS_ID_SET(reinterpret_cast<uint8_t*>(out.data()), id);
  return out;
}

bool is_response_to(std::string_view wire, uint16_t id, const Query& q) {
  Pkt p = from_wire(wire);
  if (!p || !ldns_pkt_qr(p.get()) || ldns_pkt_id(p.get()) != id) return false;
  const ldns_rr* got = question_of(p.get());
  const ldns_rr* want = question_of(q.pkt.get());
  // A SERVFAIL/REFUSED may come without the question; the ID (random, on a
  // socket of its own) is then all there is to match.
  if (!got) return ldns_pkt_qdcount(p.get()) == 0;
  return want && ldns_rr_get_type(got) == ldns_rr_get_type(want) &&
         ldns_rr_get_class(got) == ldns_rr_get_class(want) &&
         ldns_dname_compare(ldns_rr_owner(got), ldns_rr_owner(want)) == 0;
}

}  // namespace berth::network::dnsmsg
