# `cmake --install`: the headers, libnodetls.so.X.Y.Z with its SONAME links, libnodetls.a,
# nodetls.pc and the CMake package (find_package(nodetls CONFIG): nodetls::nodetls,
# nodetls::nodetls_static). Included from the top CMakeLists.txt when NODETLS_INSTALL is on.
include(CMakePackageConfigHelpers)

set(_real "libnodetls.so.${PROJECT_VERSION}")
set(_links "${CMAKE_CURRENT_BINARY_DIR}/install-links")
file(MAKE_DIRECTORY "${_links}")
# libnodetls.so -> libnodetls.so.0 -> libnodetls.so.0.1.0, made here and installed as links.
file(CREATE_LINK "${_real}" "${_links}/${NODETLS_SONAME}" SYMBOLIC)
file(CREATE_LINK "${NODETLS_SONAME}" "${_links}/libnodetls.so" SYMBOLIC)

install(FILES include/nodetls.h include/nodetls.hpp DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${NODETLS_SO}" DESTINATION "${CMAKE_INSTALL_LIBDIR}" RENAME "${_real}"
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(FILES "${_links}/${NODETLS_SONAME}" "${_links}/libnodetls.so" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(FILES "${NODETLS_A}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")

# nodetls.pc and nodetls-config.cmake carry the system libraries the build learned from rustc
# (NODETLS_NATIVE_LIBS_FILE, written by the cargo step), so the install step writes them.
# The .pc has absolute paths under the prefix given then (`--prefix`); the CMake package
# finds its prefix from its own location, so it can be moved.
set(NODETLS_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/nodetls")
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(_pc_${_dir} "${CMAKE_INSTALL_${_dir}}")
    set(_cmake_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(_pc_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
    set(_cmake_${_dir} "\${_nodetls_prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
file(RELATIVE_PATH _up "/prefix/${NODETLS_CMAKE_DIR}" "/prefix")
install(CODE "
  file(STRINGS [[${NODETLS_NATIVE_LIBS_FILE}]] _libs LIMIT_COUNT 1)
  if(NOT _libs)
    message(FATAL_ERROR [[nodetls: build before installing (no ${NODETLS_NATIVE_LIBS_FILE})]])
  endif()
  separate_arguments(_flags UNIX_COMMAND \"\${_libs}\")
  set(_items \"\")
  foreach(_flag IN LISTS _flags)
    string(REGEX REPLACE \"^-l\" \"\" _item \"\${_flag}\")
    list(APPEND _items \"\${_item}\")
  endforeach()
  set(NODETLS_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(NODETLS_PC_LIBDIR [[${_pc_LIBDIR}]])
  set(NODETLS_PC_INCLUDEDIR [[${_pc_INCLUDEDIR}]])
  set(NODETLS_LIBS_PRIVATE \"\${_libs}\")
  set(NODETLS_STATIC_LINK_LIBRARIES \"\${_items}\")
  set(NODETLS_CMAKE_PREFIX_FROM_HERE [[${_up}]])
  set(NODETLS_CMAKE_LIBDIR [[${_cmake_LIBDIR}]])
  set(NODETLS_CMAKE_INCLUDEDIR [[${_cmake_INCLUDEDIR}]])
  set(PROJECT_DESCRIPTION [[${PROJECT_DESCRIPTION}]])
  set(PROJECT_VERSION [[${PROJECT_VERSION}]])
  set(NODETLS_SONAME [[${NODETLS_SONAME}]])
  configure_file([[${CMAKE_CURRENT_SOURCE_DIR}/cmake/nodetls.pc.in]] [[${CMAKE_CURRENT_BINARY_DIR}/nodetls.pc]] @ONLY)
  configure_file([[${CMAKE_CURRENT_SOURCE_DIR}/cmake/nodetls-config.cmake.in]]
                 [[${CMAKE_CURRENT_BINARY_DIR}/nodetls-config.cmake]] @ONLY)
")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/nodetls.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# As the SONAME (libnodetls.so.0) says: the ABI only grows within a major version.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/nodetls-config-version.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/nodetls-config.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/nodetls-config-version.cmake"
        DESTINATION "${NODETLS_CMAKE_DIR}")
