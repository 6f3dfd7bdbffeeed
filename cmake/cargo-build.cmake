# The CMake build's cargo step (cmake -P, from the top CMakeLists.txt): builds the library
# and keeps the system libraries rustc says libnodetls.a needs, in LIBS_FILE as rustc
# prints them ("-lgcc_s -lutil ... -lc") and in LIBS_RSP, the same flags for the linker
# (-Wl,@file). Cargo replays the note when nothing needs building, so a built tree answers
# at once. Both files are rewritten only when the list changes.
execute_process(
  COMMAND "${CARGO}" rustc --lib ${PROFILE_FLAG} --manifest-path "${MANIFEST}" --target-dir "${TARGET_DIR}"
          -- --print native-static-libs
  RESULT_VARIABLE rc ERROR_VARIABLE err ECHO_ERROR_VARIABLE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cargo failed (${rc})")
endif()
if(NOT err MATCHES "native-static-libs: ([^\r\n]*)")
  message(FATAL_ERROR "cargo built nodetls, but rustc printed no native-static-libs")
endif()
string(STRIP "${CMAKE_MATCH_1}" libs)
file(CONFIGURE OUTPUT "${LIBS_FILE}" CONTENT "${libs}\n" @ONLY)
file(CONFIGURE OUTPUT "${LIBS_RSP}" CONTENT "${libs}\n" @ONLY)
