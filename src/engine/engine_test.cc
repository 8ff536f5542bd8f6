#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "base/file.h"
#include "base/test_temp_dir.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/fake_image_service.h"
#include "engine/system.h"

namespace berth::engine {
namespace {

using namespace std::chrono_literals;
using Status = EventBus::Subscription::Status;

using TempDir = test::TempDir;

Event ev(std::string type, std::string action, std::string id, int64_t t,
         std::map<std::string, std::string> attrs = {}) {
  Event e;
  e.type = std::move(type);
  e.action = std::move(action);
  e.actor_id = std::move(id);
  e.time_ns = t;
  e.attributes = std::move(attrs);
  return e;
}

TEST(EventFilter, DockerSemantics) {
  Event pull = ev("image", "pull", "busybox:latest", 1, {{"name", "busybox:latest"}});
  Event tag = ev("image", "tag", "sha256:abcdef0123", 1, {{"name", "x:1"}, {"maintainer", "me"}});
  EventFilter f;
  EXPECT_TRUE(f.matches(pull));
  f.by_key["type"] = {"image"};
  EXPECT_TRUE(f.matches(pull));
  f.by_key["event"] = {"tag", "untag"};
  EXPECT_FALSE(f.matches(pull));
  EXPECT_TRUE(f.matches(tag));
  EventFilter img;
  img.by_key["image"] = {"busybox"};
  EXPECT_TRUE(img.matches(pull));  // tag stripped
  EXPECT_FALSE(img.matches(tag));
  img.by_key["image"] = {"abcdef"};  // id prefix
  EXPECT_TRUE(img.matches(tag));
  EventFilter lab;
  lab.by_key["label"] = {"maintainer=me"};
  EXPECT_TRUE(lab.matches(tag));
  lab.by_key["label"] = {"maintainer=you"};
  EXPECT_FALSE(lab.matches(tag));
  lab.by_key["label"] = {"maintainer"};
  EXPECT_TRUE(lab.matches(tag));
  EventFilter bad;
  bad.by_key["colour"] = {"red"};
  ASSERT_FALSE(bad.validate());
  EXPECT_EQ(bad.validate().error().message, "invalid filter 'colour'");
}

TEST(EventBus, RingIsBoundedAndReplaysSince) {
  EventBus bus(3);
  for (int i = 1; i <= 5; ++i) bus.publish(ev("image", "pull", std::to_string(i), i * 100));
  EXPECT_EQ(bus.buffered(), 3u);
  auto sub = bus.subscribe({}, 0, 450);  // events 3 and 4 (1,2 were evicted; 5 is after until)
  auto a = sub->next(10ms);
  ASSERT_EQ(a.status, Status::Event);
  EXPECT_EQ(a.event.actor_id, "3");
  auto b = sub->next(10ms);
  ASSERT_EQ(b.status, Status::Event);
  EXPECT_EQ(b.event.actor_id, "4");
  EXPECT_EQ(sub->next(10ms).status, Status::Ended);  // until (450 ns after epoch) is long past
}

TEST(EventBus, LiveEventsFilteredAndTimeouts) {
  EventBus bus;
  EventFilter f;
  f.by_key["event"] = {"delete"};
  auto sub = bus.subscribe(f, std::nullopt, std::nullopt);
  EXPECT_EQ(bus.subscriber_count(), 1u);
  EXPECT_EQ(sub->next(5ms).status, Status::Timeout);
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    bus.publish(ev("image", "pull", "a", 0));
    bus.publish(ev("image", "delete", "b", 0));
  });
  auto n = sub->next(2000ms);
  t.join();
  ASSERT_EQ(n.status, Status::Event);
  EXPECT_EQ(n.event.actor_id, "b");
  EXPECT_GT(n.event.time_ns, 0);
  sub.reset();
  EXPECT_EQ(bus.subscriber_count(), 0u);
}

TEST(EventBus, FutureUntilEndsWhenReached) {
  EventBus bus;
  auto until = unix_now_ns() + 150'000'000;  // 150 ms ahead
  auto sub = bus.subscribe({}, std::nullopt, until);
  bus.publish(ev("image", "tag", "x", 0));
  ASSERT_EQ(sub->next(1000ms).status, Status::Event);
  auto start = std::chrono::steady_clock::now();
  auto n = sub->next(5000ms);
  EXPECT_EQ(n.status, Status::Ended);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
}

TEST(System, OsReleaseMeminfoAndArch) {
  TempDir d;
  ASSERT_TRUE(write_file_atomic(d.path() + "/os-release",
                                "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"));
  HostInfo h;
  read_os_release(d.path() + "/os-release", h);
  EXPECT_EQ(h.operating_system, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(h.os_version, "12");
  HostInfo missing;
  read_os_release(d.path() + "/nope", missing);
  EXPECT_EQ(missing.operating_system, "Linux");
  ASSERT_TRUE(write_file_atomic(d.path() + "/meminfo", "MemTotal:       2048 kB\nMemFree: 1 kB\n"));
  EXPECT_EQ(read_mem_total(d.path() + "/meminfo"), 2048 * 1024);
  EXPECT_EQ(go_arch("x86_64"), "amd64");
  EXPECT_EQ(go_arch("aarch64"), "arm64");
}

TEST(System, EngineIdPersists) {
  TempDir d;
  auto a = load_or_create_engine_id(d.path());
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->size(), 36u);
  auto b = load_or_create_engine_id(d.path());
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
}

TEST(Engine, InfoVersionEventsReload) {
  TempDir d;
  auto fake = std::make_unique<testing::FakeImageService>();
  auto* f = fake.get();
  ImageSummary s;
  s.id = sha256_of("x");
  f->images.push_back({s, Json::object()});
  EngineOptions o;
  o.data_root = d.path();
  o.version = "9.9.9";
  auto e = Engine::create(o, std::move(fake));
  ASSERT_TRUE(e) << e.error().message;
  auto info = (*e)->info();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->images, 1);
  EXPECT_EQ(info->driver, "overlayfs");
  EXPECT_EQ(info->docker_root_dir, d.path());
  EXPECT_EQ(info->server_version, "9.9.9");
  EXPECT_FALSE(info->id.empty());
  EXPECT_GT(info->host.ncpu, 0);
  EXPECT_EQ((*e)->version().version, "9.9.9");

  // Image events reach the bus.
  auto sub = (*e)->events().subscribe({}, std::nullopt, std::nullopt);
  f->emit({"tag", "sha256:1", {{"name", "a:b"}}});
  auto n = sub->next(1000ms);
  ASSERT_EQ(n.status, Status::Event);
  EXPECT_EQ(n.event.type, "image");
  EXPECT_EQ(n.event.action, "tag");
  EXPECT_EQ(n.event.attributes["name"], "a:b");

  ReloadableOptions r;
  r.debug = true;
  r.max_concurrent_downloads = 7;
  r.registry.mirrors["docker.io"] = {"http://m"};
  auto changes = (*e)->reload(r);
  EXPECT_EQ(changes.size(), 3u);
  EXPECT_EQ(f->max_downloads, 7);
  EXPECT_EQ(f->registry_options.mirrors["docker.io"][0], "http://m");
  auto reload_ev = sub->next(1000ms);
  ASSERT_EQ(reload_ev.status, Status::Event);
  EXPECT_EQ(reload_ev.event.type, "daemon");
  EXPECT_EQ(reload_ev.event.action, "reload");
  EXPECT_TRUE((*e)->reload(r).empty());
}

}  // namespace
}  // namespace berth::engine
