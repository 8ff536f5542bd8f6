# berth_module(NAME DEPS dep...): one static library per directory under src/,
# built from every .cc that is not a test, plus one GoogleTest binary
# (NAME_unit_test, CTest label "unit") from the *_test.cc files beside it.
# DEPS is the module's link list, which must match the "may use" column of
# docs/design/ARCHITECTURE.md; tools/check_layering.py checks the includes.
include(GoogleTest)

# Static twins: a target with the property BERTH_STATIC that links a module
# listing one of these shared libraries in DEPS gets these archives instead
# (and the shared twin otherwise), as the root CMakeLists does for
# libseccomp, libcap and libcrypto. The berth CLI uses it: its start-up was
# mostly the dynamic loader mapping and relocating libssl, libcrypto,
# libarchive and its ten dependencies (libxml2, ICU...) on every command.
# Each twin is the archives of pkg-config --static, in link order (libacl.a
# and liblz4.a come with libacl1-dev and liblz4-dev). A library whose
# archives are not all installed keeps its shared form.
function(berth_static_twin imported)
  set(files "")
  foreach(name ${ARGN})
    string(MAKE_C_IDENTIFIER "BERTH_TWIN_${name}" var)
    find_library(${var} NAMES ${name})
    if(NOT ${var})
      return()
    endif()
    list(APPEND files ${${var}})
  endforeach()
  set_property(GLOBAL PROPERTY BERTH_TWIN_${imported} "${files}")
endfunction()
berth_static_twin(OpenSSL::SSL libssl.a libcrypto.a)
berth_static_twin(ZLIB::ZLIB libz.a)
berth_static_twin(LibArchive::LibArchive libarchive.a libnettle.a libacl.a libattr.a liblzma.a
                  libzstd.a liblz4.a libbz2.a libxml2.a libssl.a libcrypto.a libz.a)
# BERTH_STATIC=ARCHIVE (berthd): libarchive and its own dependencies static,
# OpenSSL shared. berthd also loads libcurl (dlopen, on first registry use),
# which uses the shared OpenSSL; one shared copy keeps OpenSSL's global state
# in one place.
get_property(berth_archive_twin GLOBAL PROPERTY BERTH_TWIN_LibArchive::LibArchive)
if(berth_archive_twin)
  list(REMOVE_ITEM berth_archive_twin ${BERTH_TWIN_libssl_a} ${BERTH_TWIN_libcrypto_a})
  list(APPEND berth_archive_twin berth_libcrypto)
  set_property(GLOBAL PROPERTY BERTH_TWIN_ARCHIVE_LibArchive::LibArchive "${berth_archive_twin}")
endif()
# zlib goes with libarchive: berthd, which has libarchive's static libz.a,
# takes the logs module's zlib from the same archive.
get_property(berth_zlib_twin GLOBAL PROPERTY BERTH_TWIN_ZLIB::ZLIB)
if(berth_zlib_twin)
  set_property(GLOBAL PROPERTY BERTH_TWIN_ARCHIVE_ZLIB::ZLIB "${berth_zlib_twin}")
endif()

function(berth_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  # BERTH_STATIC: ON (every twin) | ARCHIVE (only the ARCHIVE twins) | unset (none).
  set(mode "$<TARGET_PROPERTY:BERTH_STATIC>")
  set(all "$<STREQUAL:${mode},ON>")
  set(arch "$<STREQUAL:${mode},ARCHIVE>")
  set(deps "")
  foreach(d ${M_DEPS})
    get_property(twin GLOBAL PROPERTY BERTH_TWIN_${d})
    get_property(atwin GLOBAL PROPERTY BERTH_TWIN_ARCHIVE_${d})
    if(twin)
      if(atwin)
        set(shared "$<NOT:$<OR:${all},${arch}>>")
      else()
        set(shared "$<NOT:${all}>")
      endif()
      list(APPEND deps "$<${shared}:${d}>")
      foreach(f ${twin})
        list(APPEND deps "$<${all}:${f}>")
      endforeach()
      foreach(f ${atwin})
        list(APPEND deps "$<${arch}:${f}>")
      endforeach()
    else()
      list(APPEND deps ${d})
    endif()
  endforeach()
  set(M_DEPS ${deps})
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
