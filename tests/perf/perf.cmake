# homa-perf: unit tests of its parts, and a smoke test of the binary on loopback.
if(TARGET homa_perf_lib)
  homa_add_test(BINARY perf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_perf.c
    LIBS homa_perf_lib TIMEOUT 60)
  add_test(NAME perf.smoke_loopback
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/smoke.sh $<TARGET_FILE:homa-perf>)
  set_tests_properties(perf.smoke_loopback PROPERTIES TIMEOUT 120 LABELS perf)
endif()
