#include "engine/events.h"

#include <algorithm>

#include "base/strings.h"

namespace berth::engine {

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// "busybox:latest" -> "busybox"; digests and ids are left alone.
std::string strip_tag(const std::string& s) {
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return s;
  if (s.compare(0, 7, "sha256:") == 0) return s;
  return s.substr(0, colon);
}

bool name_matches(const std::string& want, const std::string& have) {
  if (have.empty()) return false;
  if (want == have) return true;
  if (strip_tag(have) == want) return true;
  // Ids: full "sha256:..." or any unambiguous-looking prefix of the hex.
  std::string hex = have.compare(0, 7, "sha256:") == 0 ? have.substr(7) : have;
  std::string w = want.compare(0, 7, "sha256:") == 0 ? want.substr(7) : want;
  return w.size() >= 4 && hex.compare(0, w.size(), w) == 0;
}

bool attr_matches(const Event& e, const std::string& want,
                  std::initializer_list<const char*> keys) {
  if (name_matches(want, e.actor_id)) return true;
  for (const char* k : keys) {
    auto it = e.attributes.find(k);
    if (it != e.attributes.end() && name_matches(want, it->second)) return true;
  }
  return false;
}

bool key_matches(const std::string& key, const std::string& v, const Event& e) {
  if (key == "type") return e.type == v;
  if (key == "event" || key == "action") return e.action == v || starts_with(e.action, v + ":");
  if (key == "scope") return e.scope == v;
  if (key == "label") {
    auto eq = v.find('=');
    auto it = e.attributes.find(v.substr(0, eq));
    if (it == e.attributes.end()) return false;
    return eq == std::string::npos || it->second == v.substr(eq + 1);
  }
  if (key == "image") {
    if (e.type == "image") return attr_matches(e, v, {"name"});
    if (e.type == "container") {
      auto it = e.attributes.find("image");
      return it != e.attributes.end() && name_matches(v, it->second);
    }
    return false;
  }
  // container, volume, network, daemon, plugin, ...: the actor of that type.
  return e.type == key && attr_matches(e, v, {"name"});
}

}  // namespace

bool EventFilter::matches(const Event& e) const {
  for (const auto& [key, values] : by_key) {
    if (values.empty()) continue;
    bool any = false;
    for (const auto& v : values)
      if (key_matches(key, v, e)) {
        any = true;
        break;
      }
    if (!any) return false;
  }
  return true;
}

Result<void> EventFilter::validate() const {
  static const std::set<std::string> kKeys = {"type",   "event",   "action",  "image",  "container",
                                              "volume", "network", "daemon",  "label",  "scope",
                                              "plugin", "node",    "service", "secret", "config"};
  for (const auto& [k, _] : by_key)
    if (!kKeys.count(k)) return make_error(Errc::InvalidArgument, "invalid filter '{}'", k);
  return ok();
}

struct EventBus::State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Event> queue;
  EventFilter filter;
  std::optional<int64_t> until_ns;
};

EventBus::EventBus(size_t capacity) : capacity_(capacity ? capacity : 1) {}

void EventBus::publish(Event e) {
  if (e.time_ns == 0) e.time_ns = unix_now_ns();
  std::lock_guard lk(mu_);
  ring_.push_back(e);
  while (ring_.size() > capacity_) ring_.pop_front();
  for (const auto& s : subs_) {
    if (!s->filter.matches(e)) continue;
    {
      std::lock_guard sl(s->mu);
      s->queue.push_back(e);
    }
    s->cv.notify_all();
  }
}

std::unique_ptr<EventBus::Subscription> EventBus::subscribe(EventFilter filter,
                                                            std::optional<int64_t> since_ns,
                                                            std::optional<int64_t> until_ns) {
  auto st = std::make_shared<State>();
  st->filter = std::move(filter);
  st->until_ns = until_ns;
  std::lock_guard lk(mu_);
  if (since_ns) {
    for (const auto& e : ring_) {
      if (e.time_ns < *since_ns) continue;
      if (until_ns && e.time_ns > *until_ns) continue;
      if (st->filter.matches(e)) st->queue.push_back(e);
    }
  }
  subs_.push_back(st);
  return std::unique_ptr<Subscription>(new Subscription(this, st));
}

void EventBus::unsubscribe(const State* s) {
  std::lock_guard lk(mu_);
  subs_.erase(std::remove_if(subs_.begin(), subs_.end(),
                             [s](const std::shared_ptr<State>& p) { return p.get() == s; }),
              subs_.end());
}

size_t EventBus::subscriber_count() const {
  std::lock_guard lk(mu_);
  return subs_.size();
}

size_t EventBus::buffered() const {
  std::lock_guard lk(mu_);
  return ring_.size();
}

EventBus::Subscription::~Subscription() { bus_->unsubscribe(state_.get()); }

EventBus::Subscription::Next EventBus::Subscription::next(std::chrono::milliseconds wait) {
  using Clock = std::chrono::system_clock;
  State& s = *state_;
  std::unique_lock lk(s.mu);
  auto deadline = Clock::now() + wait;
  while (true) {
    if (!s.queue.empty()) {
      Event e = std::move(s.queue.front());
      s.queue.pop_front();
      if (s.until_ns && e.time_ns > *s.until_ns) {
        s.queue.clear();
        return {Status::Ended, {}};
      }
      return {Status::Event, std::move(e)};
    }
    int64_t now = unix_now_ns();
    if (s.until_ns && now > *s.until_ns) return {Status::Ended, {}};
    auto until_deadline = deadline;
    if (s.until_ns) {
      auto u = Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                   std::chrono::nanoseconds(*s.until_ns))) +
               std::chrono::milliseconds(1);
      until_deadline = std::min(deadline, u);
    }
    if (Clock::now() >= deadline) return {Status::Timeout, {}};
    s.cv.wait_until(lk, until_deadline);
  }
}

}  // namespace berth::engine
