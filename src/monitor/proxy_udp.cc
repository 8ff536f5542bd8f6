// monitor/proxy_udp.cc — the relay's UDP flows (see proxy.h).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

#include <cerrno>
#include <string>

#include "monitor/proxy.h"
#include "monitor/proxy_internal.h"

namespace berth::monitor {

namespace {

// Datagrams handled per wake-up per socket, so one busy client cannot
// starve the rest of the monitor (the socket stays readable).
constexpr int kDgramBurst = 64;

}  // namespace

int64_t proxy_now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void Proxy::set_udp_idle(std::chrono::milliseconds idle, std::chrono::milliseconds check) {
  udp_idle_ms_ = idle.count();
  udp_check_ms_ = check.count() > 0 ? check.count() : 1;
  if (timer_armed_) arm_timer(true);
}

void Proxy::arm_timer(bool on) {
  if (!timer_) {
    if (!on) return;
    timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!timer_) return;  // flows then live until the container ends
    if (!ctl(EPOLL_CTL_ADD, timer_.get(), EPOLLIN, kTimerTok)) {
      timer_.reset();
      return;
    }
  }
  struct itimerspec its {};
  if (on) {
    its.it_value.tv_sec = udp_check_ms_ / 1000;
    its.it_value.tv_nsec = (udp_check_ms_ % 1000) * 1'000'000;
    its.it_interval = its.it_value;
  }
  ::timerfd_settime(timer_.get(), 0, &its, nullptr);
  timer_armed_ = on;
}

void Proxy::on_datagrams(uint64_t tok) {
  auto l = listeners_.find(tok);
  if (l == listeners_.end()) return;
  for (int i = 0; i < kDgramBurst; ++i) {
    sockaddr_storage from{};
    socklen_t flen = sizeof from;
    ssize_t n = ::recvfrom(l->second.fd.get(), dgram_.get(), kDgram, 0,
                           reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) return;  // EAGAIN (or an error queued for the socket: nothing to relay)
    std::string key = std::to_string(tok) + "/" + std::string(reinterpret_cast<char*>(&from), flen);
    uint64_t id = 0;
    if (auto f = flow_by_client_.find(key); f != flow_by_client_.end()) {
      id = f->second;
    } else {
      if (flows_.size() >= kMaxFlows) continue;
      Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      const auto& t = l->second.target;
      if (!s || ::connect(s.get(), reinterpret_cast<const sockaddr*>(&t), sizeof t) != 0) continue;
      id = kFlowBit | next_++;
      if (!ctl(EPOLL_CTL_ADD, s.get(), EPOLLIN, id)) continue;
      Flow& fl = flows_[id];
      fl.sock = std::move(s);
      fl.listener = tok;
      fl.client = from;
      fl.client_len = flen;
      fl.key = key;
      flow_by_client_[key] = id;
      if (!timer_armed_) arm_timer(true);
    }
    Flow& fl = flows_[id];
    fl.last_ms = proxy_now_ms();
    // A datagram the target's side cannot take now is lost, as on any
    // full path (UDP promises no delivery).
    [[maybe_unused]] ssize_t w = ::send(fl.sock.get(), dgram_.get(), static_cast<size_t>(n), 0);
  }
}

void Proxy::on_flow(uint64_t id) {
  auto f = flows_.find(id);
  if (f == flows_.end()) return;
  Flow& fl = f->second;
  auto l = listeners_.find(fl.listener);
  if (l == listeners_.end()) {
    drop_flow(id);
    return;
  }
  for (int i = 0; i < kDgramBurst; ++i) {
    ssize_t n = ::recv(fl.sock.get(), dgram_.get(), kDgram, 0);
    if (n < 0) {
      // ECONNREFUSED: an ICMP "port unreachable" from the target for an
      // earlier datagram; the flow stays (the service may come up).
      if (errno == ECONNREFUSED) continue;
      if (errno != EAGAIN && errno != EINTR) drop_flow(id);
      return;
    }
    fl.last_ms = proxy_now_ms();
    [[maybe_unused]] ssize_t w =
        ::sendto(l->second.fd.get(), dgram_.get(), static_cast<size_t>(n), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&fl.client), fl.client_len);
  }
}

void Proxy::on_timer() {
  uint64_t ticks;
  [[maybe_unused]] ssize_t r = ::read(timer_.get(), &ticks, sizeof ticks);
  int64_t now = proxy_now_ms();
  for (auto it = flows_.begin(); it != flows_.end();) {
    auto next = std::next(it);
    if (now - it->second.last_ms >= udp_idle_ms_) drop_flow(it->first);
    it = next;
  }
  if (resting_) wake_listeners();
  if (flows_.empty()) arm_timer(false);
}

void Proxy::drop_flow(uint64_t id) {
  auto it = flows_.find(id);
  if (it == flows_.end()) return;
  flow_by_client_.erase(it->second.key);
  flows_.erase(it);  // closing the socket takes it out of the epoll set
  if (resting_) wake_listeners();
}

}  // namespace berth::monitor
