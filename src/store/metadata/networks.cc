// store/metadata/networks.cc — networks and their endpoints (migration v6).
// The UNIQUE constraints carry the invariants: one name per network, one
// holder per address on a network. A violation is turned into the Conflict
// the contract names, and the transaction leaves nothing behind.
#include <fmt/format.h>

#include "store/metadata/store_impl.h"

namespace berth::metadata {

namespace {

bool is_unique_violation(const Error& e) {
  return e.code == Errc::AlreadyExists || e.code == Errc::Conflict;
}

// NULL for "" so address-less endpoints never collide on the UNIQUE index.
std::optional<std::string> null_if_empty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// Endpoint rows describe running containers, as the containers' state rows
// do: written with synchronous=NORMAL (in the WAL, so they survive the
// daemon's crash; a power loss ends the containers anyway and restore
// releases the rows of containers that are gone). UNIQUE still holds either
// way. Saves two fsyncs per container run.

}  // namespace

Result<void> SqliteMetadataStore::put_network(const NetworkRow& row) {
  if (row.id.size() != 64 || row.name.empty()) {
    return make_error(Errc::InvalidArgument, "network row without an id or a name");
  }
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(sql::Tx::begin(db_, sql::Tx::Mode::Write));
  {
    auto s = BERTH_TRY(db_.query("SELECT id FROM networks WHERE name = ?1", row.name));
    if (BERTH_TRY(s.step())) {
      return Error{Errc::Conflict, 0, fmt::format("network with name {} already exists", row.name)};
    }
  }
  auto r = db_.run("INSERT INTO networks (id, name, created, config) VALUES (?1, ?2, ?3, ?4)",
                   row.id, row.name, row.created_ns, row.config);
  if (!r) {
    if (is_unique_violation(r.error())) {
      return make_error(Errc::AlreadyExists, "network id {} already exists", row.id);
    }
    return std::move(r).error();
  }
  BERTH_TRY(tx.commit());
  return {};
}

Result<void> SqliteMetadataStore::delete_network(const std::string& id) {
  std::lock_guard lock(mu_);
  auto tx = BERTH_TRY(sql::Tx::begin(db_, sql::Tx::Mode::Write));
  BERTH_TRY(db_.run("DELETE FROM endpoints WHERE network_id = ?1", id));
  int64_t n = BERTH_TRY(db_.run("DELETE FROM networks WHERE id = ?1", id));
  if (n == 0) return make_error(Errc::NotFound, "no network row {}", id);
  BERTH_TRY(tx.commit());
  return {};
}

Result<std::vector<NetworkRow>> SqliteMetadataStore::list_networks() const {
  std::lock_guard lock(mu_);
  auto s =
      BERTH_TRY(db_.query("SELECT id, name, created, config FROM networks ORDER BY created, id"));
  std::vector<NetworkRow> out;
  while (BERTH_TRY(s.step())) {
    NetworkRow r;
    r.id = s.text(0);
    r.name = s.text(1);
    r.created_ns = s.int64(2);
    r.config = s.text(3);
    out.push_back(std::move(r));
  }
  return out;
}

Result<void> SqliteMetadataStore::put_endpoint(const EndpointRow& row) {
  if (row.network_id.empty() || row.container_id.empty()) {
    return make_error(Errc::InvalidArgument, "endpoint row without a network or a container");
  }
  std::lock_guard lock(mu_);
  sql::RelaxedSync relaxed(db_);
  auto tx = BERTH_TRY(sql::Tx::begin(db_, sql::Tx::Mode::Write));
  BERTH_TRY(db_.run("DELETE FROM endpoints WHERE network_id = ?1 AND container_id = ?2",
                    row.network_id, row.container_id));
  auto r = db_.run(
      "INSERT INTO endpoints (network_id, container_id, ip4, ip6, data) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      row.network_id, row.container_id, null_if_empty(row.ip4), null_if_empty(row.ip6), row.data);
  if (!r) {
    if (is_unique_violation(r.error())) {
      return Error{
          Errc::Conflict, 0,
          fmt::format("address {} is already in use", row.ip4.empty() ? row.ip6 : row.ip4)};
    }
    return std::move(r).error();
  }
  BERTH_TRY(tx.commit());
  return {};
}

Result<void> SqliteMetadataStore::delete_endpoint(const std::string& network_id,
                                                  const std::string& container_id) {
  std::lock_guard lock(mu_);
  sql::RelaxedSync relaxed(db_);
  BERTH_TRY(db_.run("DELETE FROM endpoints WHERE network_id = ?1 AND container_id = ?2", network_id,
                    container_id));
  return {};
}

Result<int64_t> SqliteMetadataStore::delete_endpoints_of(const std::string& container_id) {
  std::lock_guard lock(mu_);
  sql::RelaxedSync relaxed(db_);
  return db_.run("DELETE FROM endpoints WHERE container_id = ?1", container_id);
}

Result<std::vector<EndpointRow>> SqliteMetadataStore::list_endpoints() const {
  std::lock_guard lock(mu_);
  auto s = BERTH_TRY(
      db_.query("SELECT network_id, container_id, COALESCE(ip4, ''), COALESCE(ip6, ''), data "
                "FROM endpoints ORDER BY network_id, container_id"));
  std::vector<EndpointRow> out;
  while (BERTH_TRY(s.step())) {
    EndpointRow r;
    r.network_id = s.text(0);
    r.container_id = s.text(1);
    r.ip4 = s.text(2);
    r.ip6 = s.text(3);
    r.data = s.text(4);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace berth::metadata
