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
