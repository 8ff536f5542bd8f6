#include "runtime/init.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

// The init stops between its mounts and pivot_root only for the hooks that
// run there or read the state it receives there; every other spec (all of
// berthd's) goes straight through.
TEST(ContainerInit, PausesAtPrestartOnlyForTheHooksThatRunThere) {
  oci::Spec s;
  EXPECT_FALSE(needs_prestart_pause(s));
  s.hooks = oci::Hooks{};
  EXPECT_FALSE(needs_prestart_pause(s));
  oci::Hook h;
  h.path = "/bin/true";
  for (auto field : {&oci::Hooks::poststart, &oci::Hooks::poststop}) {
    s.hooks = oci::Hooks{};
    ((*s.hooks).*field).push_back(h);
    EXPECT_FALSE(needs_prestart_pause(s));
  }
  for (auto field :
       {&oci::Hooks::prestart, &oci::Hooks::create_runtime, &oci::Hooks::create_container}) {
    s.hooks = oci::Hooks{};
    ((*s.hooks).*field).push_back(h);
    EXPECT_TRUE(needs_prestart_pause(s));
  }
}

}  // namespace
}  // namespace berth::runtime
