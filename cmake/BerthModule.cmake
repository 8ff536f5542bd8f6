# berth_module(NAME DEPS dep...): one static library per directory under src/,
# built from every .cc that is not a test, plus one GoogleTest binary
# (NAME_unit_test, CTest label "unit") from the *_test.cc files beside it.
# DEPS is the module's link list, which must match the "may use" column of
# docs/design/ARCHITECTURE.md; tools/check_layering.py checks the includes.
include(GoogleTest)

function(berth_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB all_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(lib_sources "")
  set(test_sources "")
  foreach(f ${all_sources})
    if(f MATCHES "_test\\.cc$")
      list(APPEND test_sources ${f})
    else()
      list(APPEND lib_sources ${f})
    endif()
  endforeach()
  if(lib_sources)
    add_library(berth_${name} STATIC ${lib_sources})
    target_include_directories(berth_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(berth_${name} PUBLIC ${M_DEPS})
  else()
    # Header-only so far (a module whose sources are still being written).
    add_library(berth_${name} INTERFACE)
    target_include_directories(berth_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(berth_${name} INTERFACE ${M_DEPS})
  endif()
  if(test_sources)
    add_executable(${name}_unit_test ${test_sources})
    target_link_libraries(${name}_unit_test PRIVATE berth_${name} GTest::gtest GTest::gtest_main)
    gtest_discover_tests(${name}_unit_test
      PROPERTIES LABELS unit
      DISCOVERY_TIMEOUT 30)
  endif()
endfunction()
