#!/bin/bash
# The module as an ns-3 contrib module: a stand-in ns-3 tree (a top-level
# CMakeLists.txt whose build_lib and build_lib_example behave as ns-3's
# do: build_lib adds the module's examples/ itself, library variables are
# ${libcore}-style names) gets this directory linked as contrib/quic, and
# CMake must configure it: quicbed's sources found through the link, the
# examples added once. A full ns-3 tree takes 1.5 h to build; this takes
# seconds. The stand-in links Debian's ns-3 libraries, so with --build it
# also compiles and links the module and an example the in-tree way
# (minutes: a documented command, not CI):
#
#   bash ns3-module/test/contrib-layout-check.sh [--build]
set -euo pipefail

module=$(cd "$(dirname "$0")/.." && pwd)
build=0
[[ ${1:-} == --build ]] && build=1
work=$(mktemp -d /tmp/quic-contrib-check-XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/tree/contrib"
ln -s "$module" "$work/tree/contrib/quic"
cat > "$work/tree/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(ns3-stand-in C CXX)
set(CMAKE_CXX_STANDARD 17)
set(ENABLE_EXAMPLES ON)
set(ENABLE_TESTS ON)
find_package(ns3 3.37 REQUIRED)
set(CMAKE_HEADER_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/include/ns3)
foreach(m core network internet point-to-point point-to-point-layout applications flow-monitor
          traffic-control stats)
  set(lib${m} ns3::lib${m})
endforeach()
# As ns-3's: headers copied to include/ns3, lib${LIBNAME} named, a test
# library of the TestSuites, and the module's examples/ added here.
function(build_lib)
  cmake_parse_arguments(BLIB "" "LIBNAME" "SOURCE_FILES;HEADER_FILES;LIBRARIES_TO_LINK;TEST_SOURCES" ${ARGN})
  foreach(h ${BLIB_HEADER_FILES})
    get_filename_component(name ${h} NAME)
    configure_file(${CMAKE_CURRENT_SOURCE_DIR}/${h} ${CMAKE_HEADER_OUTPUT_DIRECTORY}/${name} COPYONLY)
  endforeach()
  add_library(lib${BLIB_LIBNAME} SHARED ${BLIB_SOURCE_FILES})
  target_include_directories(lib${BLIB_LIBNAME} PUBLIC ${CMAKE_BINARY_DIR}/include)
  target_link_libraries(lib${BLIB_LIBNAME} PUBLIC ${BLIB_LIBRARIES_TO_LINK})
  set(lib${BLIB_LIBNAME} lib${BLIB_LIBNAME})
  set(lib${BLIB_LIBNAME} lib${BLIB_LIBNAME} PARENT_SCOPE)
  if(ENABLE_TESTS AND BLIB_TEST_SOURCES)
    add_library(lib${BLIB_LIBNAME}-test SHARED ${BLIB_TEST_SOURCES})
    target_link_libraries(lib${BLIB_LIBNAME}-test PRIVATE lib${BLIB_LIBNAME})
  endif()
  foreach(example_folder example;examples)
    if(ENABLE_EXAMPLES AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${example_folder}/CMakeLists.txt)
      add_subdirectory(${example_folder})
    endif()
  endforeach()
endfunction()
function(build_lib_example)
  cmake_parse_arguments(BLIB "" "NAME" "SOURCE_FILES;HEADER_FILES;LIBRARIES_TO_LINK" ${ARGN})
  add_executable(${BLIB_NAME} ${BLIB_SOURCE_FILES})
  target_link_libraries(${BLIB_NAME} PRIVATE ${BLIB_LIBRARIES_TO_LINK})
endfunction()
add_subdirectory(contrib/quic)
EOF

if ! cmake -S "$work/tree" -B "$work/build" > "$work/configure.log" 2>&1; then
  cat "$work/configure.log"
  echo "contrib-layout: configuring the module in a stand-in ns-3 tree failed" >&2
  exit 1
fi
if grep -q "CMake Warning" "$work/configure.log"; then
  cat "$work/configure.log"
  echo "contrib-layout: CMake warned" >&2
  exit 1
fi
# The module's ns-3 dependencies are the literal tokens ns-3 scans for.
for token in '${libcore}' '${libnetwork}' '${libinternet}' '${libapplications}'; do
  if ! grep -qF "$token" "$module/CMakeLists.txt"; then
    echo "contrib-layout: $token missing from LIBRARIES_TO_LINK" >&2
    exit 1
  fi
done
if ((build)); then
  nice -n 10 cmake --build "$work/build" -j2 --target libquic quic-bulk-send
  "$work/build/contrib/quic/examples/quic-bulk-send" --maxBytes=100000
fi
echo "contrib-layout: the module configures as contrib/quic$( ((build)) && echo ", builds and runs")"
