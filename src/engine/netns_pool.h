// engine/netns_pool.h — ready-made network namespaces for bridge networks.
//
// Creating a namespace and a veth pair costs milliseconds of kernel time
// (RTM_NEWLINK for a veth whose peer goes into a fresh namespace is the
// slowest netlink call berthd makes, and it waits behind the asynchronous
// teardown of the namespaces of containers that just exited). A container
// start should not pay that: the pool keeps, per bridge network recently
// started on, a few namespaces that already hold a veth whose host end is on
// the bridge and up and whose peer ("eth0") is down and unaddressed. A start
// takes one, moves it to the container's netns path and only configures the
// peer (MAC, address, routes), through a route socket the pool opened inside
// the spare when it made it (no thread has to enter the namespace); the pool
// makes a replacement in the background. That background work (unpinning the
// taken spare's pool file, making the replacement) waits until kQuiet after
// the last take while the network still has a spare: it is kernel time the
// start that just took one, and the container it starts, would otherwise
// compete with on a small machine. A network with no spare left is refilled
// at once.
//
// Spares are never reused: a namespace a container ran in is destroyed as
// before, so nothing a container did to its network (sysctls, rules,
// sockets) reaches another one. Spares are pinned at
// <dir>/<host veth name>, so whoever lists a bridge's veths can tell spares
// from containers' ones; the directory is emptied at start (a crash may
// leave some) and at destruction.
// Thread-safety: every method may be called from any thread; the pool's own
// thread never calls back into its owner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "network/netns.h"

namespace berth::engine {

struct SpareSpec {
  std::string network_id;
  std::string bridge;  // the host end is enslaved here
  int mtu = 1500;
};

struct TakenSpare {
  std::string host_veth;
  // A route socket inside the namespace (shared: it rides in copyable
  // callbacks); may be empty, then configure from a thread inside.
  std::shared_ptr<network::RouteSocket> inside;
};

class NetnsPool {
 public:
  // `per_network` spares are kept for each of the (at most kMaxNetworks)
  // networks most recently asked for; 0 disables the pool.
  NetnsPool(std::string dir, size_t per_network);
  ~NetnsPool();  // stops the thread, removes every spare
  NetnsPool(const NetnsPool&) = delete;
  NetnsPool& operator=(const NetnsPool&) = delete;

  static constexpr size_t kMaxNetworks = 4;
  static constexpr std::chrono::milliseconds kQuiet{25};

  // Moves a spare of spec.network_id to `dest` (which must not exist) and
  // returns its host veth name and socket; nullopt when none is ready (the
  // caller makes its own). Either way the network is remembered and its
  // spares refilled.
  std::optional<TakenSpare> take(const SpareSpec& spec, const std::string& dest);
  // Forgets a network (removed, or its bridge changed) and removes its spares.
  void drop_network(const std::string& network_id);
  // Spares ready now, over all networks (tests, logs).
  size_t ready() const;

 private:
  struct Spare {
    std::string path, host_veth;
    network::RouteSocket inside;
  };
  struct Want {
    SpareSpec spec;
    unsigned long gen = 0;  // changes when the spec does: an in-flight spare is discarded
    bool failed = false;    // the last refill failed: wait for the next take
    std::deque<Spare> ready;
  };
  void run();
  void remove_spare(const Spare& s);
  static void unpin(const std::string& path);  // remove_netns, a failure logged

  const std::string dir_;
  const size_t per_network_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  unsigned long next_gen_ = 1;
  std::map<std::string, Want> wants_;  // by network id
  std::deque<std::string> recent_;     // network ids, most recent first
  std::vector<std::string> unpin_;     // pool files of taken spares, still mounted
  std::chrono::steady_clock::time_point last_take_{};
  std::thread thread_;
};

}  // namespace berth::engine
