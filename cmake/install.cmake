# `cmake --install BUILD --prefix P`: the program, the core's headers and the
# libraries a userspace program links, found through pkg-config:
#   P/bin/quicbed
#   P/include/quicbed/**.h            the core (stack/), same layout
#   P/include/quicbed/userspace/*.h   the userspace host
#   P/lib/libquicbed_{userspace,stack,host}.a
#   P/lib/pkgconfig/quicbed.pc        c++ $(pkg-config --cflags --libs quicbed)
# The core's headers include each other relative to stack/ ("base/status.h"),
# so P/include/quicbed is the include directory.
include(GNUInstallDirs)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/stack/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/quicbed
  FILES_MATCHING PATTERN "*.h")
install(TARGETS quicbed_stack ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

if(TARGET quicbed_userspace)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/userspace/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/quicbed/userspace
    FILES_MATCHING PATTERN "*.h"
    PATTERN demo EXCLUDE PATTERN bench EXCLUDE)
  # The core calls the host hooks, so their archive must follow the core's on
  # the link line (static archives are searched once, in order); in the build
  # tree quicbed_userspace carries them as objects instead.
  add_library(quicbed_host_archive STATIC $<TARGET_OBJECTS:quicbed_host>)
  set_target_properties(quicbed_host_archive PROPERTIES OUTPUT_NAME quicbed_host)
  install(TARGETS quicbed_userspace quicbed_host_archive
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  # Relocatable: every path is relative to where the .pc file lands, so
  # --prefix at install time needs no reconfiguration.
  set(QUICBED_PC_LIBS "-lquicbed_userspace -lquicbed_stack -lquicbed_host")
  set(QUICBED_PC_REQUIRES "gnutls")
else()
  set(QUICBED_PC_LIBS "-lquicbed_stack")
  set(QUICBED_PC_REQUIRES "")
endif()
file(RELATIVE_PATH QUICBED_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" QUICBED_PC_TO_PREFIX "${QUICBED_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/quicbed.pc.in ${PROJECT_BINARY_DIR}/quicbed.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/quicbed.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(TARGET quicbed)
  install(TARGETS quicbed RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
