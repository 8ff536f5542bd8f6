// engine/netns_pool.cc — see netns_pool.h.
#include "engine/netns_pool.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <memory>
#include <system_error>
#include <vector>

#include "base/digest.h"
#include "base/log.h"
#include "network/link.h"
#include "network/netns.h"

namespace berth::engine {

NetnsPool::NetnsPool(std::string dir, size_t per_network)
    : dir_(std::move(dir)), per_network_(per_network) {
  if (per_network_ == 0) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  // Spares of a previous berthd (crashed, or killed): their namespaces and
  // veths go with their files.
  for (const auto& ent : std::filesystem::directory_iterator(dir_, ec))
    remove_spare(Spare{ent.path().string(), ent.path().filename().string(), {}});
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    log_warn("netns pool: no thread ({}); containers make their namespaces at start", e.what());
  }
}

NetnsPool::~NetnsPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& [id, w] : wants_)
    for (const auto& s : w.ready) remove_spare(s);
  wants_.clear();
  for (const auto& p : unpin_) unpin(p);
}

void NetnsPool::unpin(const std::string& path) {
  if (auto r = network::remove_netns(path); !r) log_warn("netns pool: {}", r.error().message);
}

void NetnsPool::remove_spare(const Spare& s) { unpin(s.path); }

std::optional<TakenSpare> NetnsPool::take(const SpareSpec& spec, const std::string& dest) {
  if (per_network_ == 0 || !thread_.joinable()) return std::nullopt;
  std::vector<Spare> stale;
  std::optional<Spare> got;
  {
    std::lock_guard lk(mu_);
    auto [it, fresh] = wants_.try_emplace(spec.network_id);
    Want& w = it->second;
    if (fresh || w.spec.bridge != spec.bridge || w.spec.mtu != spec.mtu) {
      std::move(w.ready.begin(), w.ready.end(), std::back_inserter(stale));
      w.ready.clear();
      w.spec = spec;
      w.gen = next_gen_++;
    }
    w.failed = false;
    std::erase(recent_, spec.network_id);
    recent_.push_front(spec.network_id);
    while (recent_.size() > kMaxNetworks) {
      auto old = wants_.find(recent_.back());
      if (old != wants_.end()) {
        std::move(old->second.ready.begin(), old->second.ready.end(), std::back_inserter(stale));
        wants_.erase(old);
      }
      recent_.pop_back();
    }
    if (!w.ready.empty()) {
      got = std::move(w.ready.front());
      w.ready.pop_front();
    }
    last_take_ = std::chrono::steady_clock::now();
  }
  cv_.notify_one();
  for (const auto& s : stale) remove_spare(s);
  if (!got) return std::nullopt;
  if (auto m = network::bind_netns(got->path, dest); !m) {
    log_warn("netns pool: {}", m.error().message);
    remove_spare(*got);
    return std::nullopt;
  }
  {
    // The pool's file goes later, from the pool's thread (see kQuiet).
    std::lock_guard lk(mu_);
    unpin_.push_back(got->path);
  }
  return TakenSpare{got->host_veth, std::make_shared<network::RouteSocket>(std::move(got->inside))};
}

void NetnsPool::drop_network(const std::string& network_id) {
  std::vector<Spare> stale;
  {
    std::lock_guard lk(mu_);
    auto it = wants_.find(network_id);
    if (it == wants_.end()) return;
    std::move(it->second.ready.begin(), it->second.ready.end(), std::back_inserter(stale));
    wants_.erase(it);
    std::erase(recent_, network_id);
  }
  for (const auto& s : stale) remove_spare(s);
}

size_t NetnsPool::ready() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (const auto& [id, w] : wants_) n += w.ready.size();
  return n;
}

void NetnsPool::run() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const Want* need = nullptr;
    for (const auto& id : recent_) {
      auto it = wants_.find(id);
      if (it != wants_.end() && !it->second.failed && it->second.ready.size() < per_network_) {
        need = &it->second;
        break;
      }
    }
    if (!need && unpin_.empty()) {
      cv_.wait(lk);
      continue;
    }
    auto quiet_at = last_take_ + kQuiet;
    if ((!need || !need->ready.empty()) && std::chrono::steady_clock::now() < quiet_at) {
      cv_.wait_until(lk, quiet_at);
      continue;
    }
    if (!unpin_.empty()) {
      std::vector<std::string> paths;
      paths.swap(unpin_);
      lk.unlock();
      for (const auto& p : paths) unpin(p);
      lk.lock();
      continue;
    }
    SpareSpec spec = need->spec;
    unsigned long gen = need->gen;
    lk.unlock();

    // Made without the lock: this is the slow part the pool exists for.
    Spare s;
    s.host_veth = "veth" + random_hex_id().substr(0, 7);
    s.path = dir_ + "/" + s.host_veth;
    auto made = network::create_netns(s.path, &s.inside);
    if (made) {
      network::VethConfig vc;
      vc.host_name = s.host_veth;
      vc.bridge = spec.bridge;
      vc.netns_path = s.path;
      vc.container_name = "eth0";
      vc.mtu = spec.mtu;
      vc.peer_down = true;
      made = network::attach_veth(vc);
      if (!made) remove_spare(s);
    }

    lk.lock();
    auto it = wants_.find(spec.network_id);
    bool wanted = !stopping_ && it != wants_.end() && it->second.gen == gen;
    if (!made) {
      // Not retried until the next take (the bridge may be gone for good);
      // that start then makes its own namespace, as without a pool.
      log_warn("netns pool: spare for {}: {}", spec.bridge, made.error().message);
      if (wanted) it->second.failed = true;
      continue;
    }
    if (wanted) {
      it->second.ready.push_back(std::move(s));
      continue;
    }
    lk.unlock();
    remove_spare(s);
    lk.lock();
  }
}

}  // namespace berth::engine
