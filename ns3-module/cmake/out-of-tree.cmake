# Out-of-tree build of the quic module against an installed ns-3 (Debian's
# libns3-dev 3.37): defines the two functions an ns-3 tree gives its
# modules, build_lib and build_lib_example, on top of find_package(ns3), so
# that the module's CMakeLists.txt is the same file in both builds. Also
# builds the test runner an ns-3 tree has and Debian does not ship.
#
# In an ns-3 tree, ${libcore} and friends name the tree's library targets;
# here they name ns-3's imported targets.
foreach(m core network internet point-to-point point-to-point-layout applications flow-monitor
          traffic-control stats)
  set(lib${m} ns3::lib${m})
endforeach()

# ns-3's headers live flat under include/ns3/; ours are copied into the same
# shape so that module code and users write #include "ns3/quic-socket.h".
set(QUIC_NS3_INCLUDE_DIR ${CMAKE_CURRENT_BINARY_DIR}/include)

function(build_lib)
  cmake_parse_arguments(BLIB "" "LIBNAME" "SOURCE_FILES;HEADER_FILES;LIBRARIES_TO_LINK;TEST_SOURCES" ${ARGN})
  foreach(h ${BLIB_HEADER_FILES})
    get_filename_component(name ${h} NAME)
    configure_file(${CMAKE_CURRENT_SOURCE_DIR}/${h} ${QUIC_NS3_INCLUDE_DIR}/ns3/${name} COPYONLY)
  endforeach()
  set(target ns3-${BLIB_LIBNAME})
  add_library(${target} SHARED ${BLIB_SOURCE_FILES})
  target_include_directories(${target} PUBLIC ${QUIC_NS3_INCLUDE_DIR})
  # NS_LOG and NS_ASSERT compile to nothing without these.
  target_compile_definitions(${target} PUBLIC NS3_LOG_ENABLE NS3_ASSERT_ENABLE)
  target_link_libraries(${target} PUBLIC ${BLIB_LIBRARIES_TO_LINK})
  set(lib${BLIB_LIBNAME} ${target})
  set(lib${BLIB_LIBNAME} ${target} PARENT_SCOPE)
  # ns-3's build_lib adds the module's examples/ itself (with
  # --enable-examples), so the module's CMakeLists.txt must not: ours does
  # the same.
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/examples/CMakeLists.txt)
    add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/examples)
  endif()
  if(BLIB_TEST_SOURCES)
    # ns-3 trees have test-runner; Debian ships none: ours runs the suites
    # linked into it (ns3::TestRunner::Run lives in libns3-core).
    add_executable(${target}-test-runner ${CMAKE_CURRENT_SOURCE_DIR}/cmake/test-runner.cc ${BLIB_TEST_SOURCES})
    target_link_libraries(${target}-test-runner PRIVATE ${target})
    set(QUIC_NS3_TEST_RUNNER ${target}-test-runner PARENT_SCOPE)
  endif()
endfunction()

function(build_lib_example)
  cmake_parse_arguments(BLIB "" "NAME" "SOURCE_FILES;HEADER_FILES;LIBRARIES_TO_LINK" ${ARGN})
  add_executable(${BLIB_NAME} ${BLIB_SOURCE_FILES})
  set_target_properties(${BLIB_NAME} PROPERTIES CXX_STANDARD 17)
  target_link_libraries(${BLIB_NAME} PRIVATE ${BLIB_LIBRARIES_TO_LINK})
endfunction()
