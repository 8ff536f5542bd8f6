# Private test target for seccomp, capabilities and features: these sources
# build and test on their own (they use only base, oci, libseccomp and libcap),
# so they can be checked while the rest of the runtime module is in progress.
# Once berth_runtime itself links, runtime_unit_test (berth_module) compiles
# the same *_test.cc files; this target can then be dropped.
add_executable(runtime_seccomp_caps_test
  ${CMAKE_CURRENT_LIST_DIR}/seccomp.cc
  ${CMAKE_CURRENT_LIST_DIR}/capabilities.cc
  ${CMAKE_CURRENT_LIST_DIR}/features.cc
  ${CMAKE_CURRENT_LIST_DIR}/seccomp_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/capabilities_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/features_test.cc)
target_include_directories(runtime_seccomp_caps_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(runtime_seccomp_caps_test PRIVATE
  berth_oci berth_base PkgConfig::SECCOMP PkgConfig::LIBCAP GTest::gtest_main)
# The prefix keeps CTest names distinct from runtime_unit_test's, which
# discovers the same tests once berth_runtime links.
gtest_discover_tests(runtime_seccomp_caps_test
  TEST_PREFIX "seccomp_caps."
  PROPERTIES LABELS unit
  DISCOVERY_TIMEOUT 30)
