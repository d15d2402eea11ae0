# The sans-I/O promise, checked on the built library: no syscalls, no clock,
# no threads, only allowlisted pure libc functions (cmake/CheckCorePurity.cmake).
if(TARGET homa_core)
  add_test(NAME core.purity__no_syscalls_clock_or_threads
    COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:homa_core>
            -P ${PROJECT_SOURCE_DIR}/cmake/CheckCorePurity.cmake)
endif()
