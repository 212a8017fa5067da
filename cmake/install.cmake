include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DFTRACER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dftracer_utils)
set(_dftracer_targets dftracer_executor)
if(TARGET dftracer_watchdog)
  list(APPEND _dftracer_targets dftracer_watchdog)
endif()

install(TARGETS ${_dftracer_targets}
  EXPORT dftracer_utils_targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY libs/executor/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
if(TARGET dftracer_watchdog)
  install(DIRECTORY libs/watchdog/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
endif()
install(EXPORT dftracer_utils_targets
  NAMESPACE dftracer::
  DESTINATION ${DFTRACER_CMAKE_DIR}
  COMPONENT dev)

configure_package_config_file(cmake/dftracer_utilsConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/dftracer_utilsConfig.cmake
  INSTALL_DESTINATION ${DFTRACER_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/dftracer_utilsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/dftracer_utilsConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/dftracer_utilsConfigVersion.cmake
  DESTINATION ${DFTRACER_CMAKE_DIR}
  COMPONENT dev)
