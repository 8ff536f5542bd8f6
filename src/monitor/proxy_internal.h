// monitor/proxy_internal.h — what proxy.cc and proxy_udp.cc share.
#pragma once

#include <cstddef>
#include <cstdint>

namespace berth::monitor {

// epoll tokens of the relay's set: listeners have the top bit, UDP flows the
// next one, the flow timer is one value; TCP connection sides are id*2(+1).
inline constexpr uint64_t kListenerBit = 1ull << 63;
inline constexpr uint64_t kFlowBit = 1ull << 62;
inline constexpr uint64_t kTimerTok = 1ull << 61;
// The largest UDP payload, and a relay's one buffer for it.
inline constexpr size_t kDgram = 64 * 1024;

int64_t proxy_now_ms();

}  // namespace berth::monitor
