# Robustness: failing allocations, simulator soak, real-socket soak.
set(ROBUST_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
homa_add_test(BINARY robust_alloc SOURCES ${ROBUST_TEST_DIR}/test_robust_alloc.c
  ${PROJECT_SOURCE_DIR}/tests/common/homa_testnet.c
  ${PROJECT_SOURCE_DIR}/tests/common/homa_pktbuild.c
  LIBS homa_core LABELS robust TIMEOUT 600)
if(TARGET homa_sim)
  homa_add_test(BINARY robust_soak_sim SOURCES ${ROBUST_TEST_DIR}/test_soak_sim.c
    LIBS homa_sim LABELS robust TIMEOUT 900)
endif()
# Real sockets for a minute with loss and a server killed and restarted
# (label soak: the sanitizer and valgrind runs leave it out).
if(TARGET homa)
  add_executable(rt_soak ${ROBUST_TEST_DIR}/rt_soak.c)
  target_include_directories(rt_soak PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(rt_soak PRIVATE homa)
  add_test(NAME robust.rt_soak_60s_loss_and_server_restarts COMMAND rt_soak 60)
  set_tests_properties(robust.rt_soak_60s_loss_and_server_restarts PROPERTIES
    TIMEOUT 180 LABELS "soak")
endif()
