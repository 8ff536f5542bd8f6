// engine/events.h — the daemon's event bus (docker events).
//
// Every domain (images now; containers, volumes, networks next) publishes
// Events here. Subscribers (GET /events) get a replay of the recent past
// from a bounded ring buffer (`since`) and then live events, filtered with
// docker's filter keys, until `until` (which may lie in the future: the
// subscription then ends when that time comes).
// Thread-safety: all methods may be called from any thread; a Subscription is
// used by one thread.
// Depends on: base.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::engine {

struct Event {
  std::string type;  // "image", "container", "volume", "network", "daemon"
  std::string action;
  std::string actor_id;
  std::map<std::string, std::string> attributes;
  std::string scope = "local";
  int64_t time_ns = 0;  // set by publish() when 0
};

// docker's event filters: values of one key are OR-ed, keys are AND-ed.
// Keys: type, event (alias action), image, container, volume, network,
// daemon, label ("k" or "k=v"), scope.
struct EventFilter {
  std::map<std::string, std::vector<std::string>> by_key;
  bool matches(const Event& e) const;
  // InvalidArgument "invalid filter 'x'" for unknown keys.
  Result<void> validate() const;
};

class EventBus {
 public:
  explicit EventBus(size_t capacity = 1024);
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  void publish(Event e);

  struct State;
  class Subscription {
   public:
    enum class Status { Event, Timeout, Ended };
    struct Next {
      Status status = Status::Timeout;
      Event event;
    };
    ~Subscription();
    // The next matching event, waiting at most `wait`. Ended once `until`
    // has passed (after every event up to it was delivered).
    Next next(std::chrono::milliseconds wait);

   private:
    friend class EventBus;
    Subscription(EventBus* bus, std::shared_ptr<State> s) : bus_(bus), state_(std::move(s)) {}
    EventBus* bus_;
    std::shared_ptr<State> state_;
  };

  // Replays buffered events with time >= since_ns (when given) and <= until_ns,
  // then delivers live ones. `now_ns` is for tests (0: the clock).
  std::unique_ptr<Subscription> subscribe(EventFilter filter, std::optional<int64_t> since_ns,
                                          std::optional<int64_t> until_ns);
  size_t subscriber_count() const;
  // Events currently buffered (for tests and `info`).
  size_t buffered() const;

 private:
  void unsubscribe(const State* s);
  mutable std::mutex mu_;
  size_t capacity_;
  std::deque<Event> ring_;
  std::vector<std::shared_ptr<State>> subs_;
};

int64_t unix_now_ns();

}  // namespace berth::engine
