# libhoma runtime tests: real sockets on loopback (UDP always; IPv6 and the
# raw carrier when the machine allows, otherwise skipped with a reason).
if(TARGET homa)
  set(RT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
  homa_add_test(BINARY rt_messages
    SOURCES ${RT_TEST_DIR}/test_rt_messages.c ${RT_TEST_DIR}/rt_helpers.c
    LIBS homa LABELS rt TIMEOUT 120)
  homa_add_test(BINARY rt_send_more
    SOURCES ${RT_TEST_DIR}/test_rt_send_more.c ${RT_TEST_DIR}/rt_helpers.c
    LIBS homa LABELS rt TIMEOUT 120)
  homa_add_test(BINARY rt_place
    SOURCES ${RT_TEST_DIR}/test_rt_place.c ${RT_TEST_DIR}/rt_helpers.c
    LIBS homa LABELS rt TIMEOUT 120)
  # The doorbell's tests look at the socket's internals (src/rt/homa_rt.h).
  homa_add_test(BINARY rt_doorbell
    SOURCES ${RT_TEST_DIR}/test_rt_doorbell.c ${RT_TEST_DIR}/rt_helpers.c
    LIBS homa LABELS rt TIMEOUT 120)
  target_include_directories(rt_doorbell PRIVATE ${PROJECT_SOURCE_DIR}/src/rt)
  if(EXISTS ${RT_TEST_DIR}/test_rt_control.c)
    homa_add_test(BINARY rt_control
      SOURCES ${RT_TEST_DIR}/test_rt_control.c ${RT_TEST_DIR}/rt_helpers.c
      LIBS homa LABELS rt TIMEOUT 120)
  endif()
endif()
